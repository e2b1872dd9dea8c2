"""SQL pieces both databases understand: the days between two moments, and percentiles."""

import math
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session


class days_between(FunctionElement[float]):
    """``later - earlier`` in days, as a float."""

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "postgresql")
def _days_postgresql(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    # date_part computes in floating point; EXTRACT (numeric since PostgreSQL 14) is a third
    # slower over a million rows, and days need no more than a float's precision.
    return f"(date_part('epoch', {later} - {earlier}) / 86400.0)"


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(julianday({later}) - julianday({earlier}))"


def percentiles(
    session: Session,
    value: ColumnElement[float],
    where: list[ColumnElement[bool]],
    *,
    group: Any = None,
    from_: Any = None,
    fractions: tuple[float, ...] = (0.5, 0.9),
) -> dict[Any, tuple[int, list[float]]]:
    """Nearest-rank percentiles of ``value`` to 2 decimals, per group (key None without
    one), with each group's n.

    The database counts the values per group and per value rounded to hundredths (a plain
    GROUP BY: parallel, no sort of a million rows, the same on SQLite and PostgreSQL); the
    percentiles are read off the cumulative counts here. Rounding never reorders values, so
    the k-th smallest rounded value is the k-th smallest value rounded: this is exact. The
    nearest rank of fraction f among n values is the smallest whole k with k >= n*f.
    """
    # Hundredths of a day, rounded half up: a whole number, cheap to group by. On PostgreSQL
    # the waits' buckets have extended statistics (migration 9d41314fec39) so the planner
    # hashes the few thousand groups in parallel instead of sorting every row: change this
    # expression and those statistics must change with it.
    bucket = func.floor(value * 100 + 0.5)
    keys = [group, bucket] if group is not None else [bucket]
    query: Select[Any] = select(*keys, func.count())
    if from_ is not None:
        query = query.select_from(from_)
    query = query.where(value.is_not(None), *where).group_by(*keys).order_by(*keys)
    counts: dict[Any, list[tuple[float, int]]] = {}
    for row in session.execute(query).all():
        group_key = row[0] if group is not None else None
        counts.setdefault(group_key, []).append((round(float(row[-2]) / 100, 2), int(row[-1])))
    return {key: _nearest_ranks(histogram, fractions) for key, histogram in counts.items()}


def _nearest_ranks(
    histogram: list[tuple[float, int]], fractions: tuple[float, ...]
) -> tuple[int, list[float]]:
    n = sum(count for _, count in histogram)
    found = []
    for f in fractions:
        rank, seen = max(1, math.ceil(n * f)), 0
        for rounded, count in histogram:
            seen += count
            if seen >= rank:
                found.append(rounded)
                break
    return n, found
