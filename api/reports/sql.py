"""SQL pieces both databases understand: the days between two moments, and percentiles."""

from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, func, literal, or_, select
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
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"


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
    """Nearest-rank percentiles of ``value`` per group (key None without one), with each n.

    Window functions rank the rows in the database and only the chosen ranks come back:
    one query, the same on SQLite and PostgreSQL. The nearest rank of fraction f among n
    is the smallest whole r with r >= n*f.
    """
    ranked_query: Select[Any] = select(
        (group if group is not None else literal(None)).label("key"),
        value.label("value"),
        func.row_number().over(partition_by=group, order_by=value).label("rank"),
        func.count().over(partition_by=group).label("n"),
    )
    if from_ is not None:
        ranked_query = ranked_query.select_from(from_)
    ranked = ranked_query.where(value.is_not(None), *where).subquery()
    nearest = [
        and_(ranked.c.rank >= ranked.c.n * f, ranked.c.rank < ranked.c.n * f + 1) for f in fractions
    ]
    rows = session.execute(
        select(ranked.c.key, ranked.c.n, ranked.c.rank, ranked.c.value).where(or_(*nearest))
    ).all()
    result: dict[Any, tuple[int, list[float]]] = {}
    for key, n, rank, found in rows:
        _, values = result.setdefault(key, (n, [0.0] * len(fractions)))
        for index, f in enumerate(fractions):
            if n * f <= rank < n * f + 1:
                values[index] = round(float(found), 2)
    return result
