"""Secondary suppression: no suppressed count can be worked out from the shown ones."""

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.small_numbers import Suppression, Total
from tests.support.disclosure import Equation, recovered

SMALL = Suppression(5)


def equations_of(counts: dict[str, int], totals: list[Total]) -> list[Equation]:
    """Each sum as ``sum(coefficient * cell) = constant`` over all its cells; a total that
    is not a cell is a known constant."""
    result = []
    for total in totals:
        terms = dict.fromkeys(total.parts, 1)
        if total.total is None:
            known = sum(counts[p] for p in total.parts)
            if not 0 < known < 5:  # a small one is suppressed where it is published
                result.append((terms, known))
        else:
            result.append((terms | {total.total: -1}, 0))
    return result


def check_protected(counts: dict[str, int], totals: list[Total]) -> dict[str, int | None]:
    shown = SMALL.protect(counts, totals)
    assert all(shown[k] is None for k, n in counts.items() if 0 < n < 5), "a small count shown"
    assert all(shown[k] in (None, n) for k, n in counts.items()), "a shown count changed"
    # A hidden count is at least 1, as zeros are shown, except a zero hidden to protect
    # another: the reader is taken to know which those are.
    low = {k: 1 if n else 0 for k, n in counts.items()}
    leaked = {k for k in recovered(shown, equations_of(counts, totals), low) if counts[k] > 0}
    assert not leaked, f"worked out: {sorted(leaked)} from {shown}"
    return shown


def test_a_lone_small_count_takes_the_smallest_other_with_it() -> None:
    # 3 = 33 - 10 - 20 if only the 3 were hidden.
    shown = check_protected({"a": 3, "b": 10, "c": 20}, [Total(("a", "b", "c"))])
    assert shown == {"a": None, "b": None, "c": 20}


def test_two_small_counts_that_add_up_to_their_least_are_protected_further() -> None:
    # 1 + 1 = 2 is the only way two small counts make 2: hide a third.
    shown = check_protected({"a": 1, "b": 1, "c": 20, "d": 30}, [Total(("a", "b", "c", "d"))])
    assert shown == {"a": None, "b": None, "c": None, "d": 30}


def test_a_count_hidden_to_protect_must_not_be_worked_out_from_its_bounds() -> None:
    # 1 + 5 = 6 with one small (1..4) and one not (5 or more): only 1 and 5 fit.
    shown = SMALL.protect({"a": 1, "b": 5, "c": 20}, [Total(("a", "b", "c"))])
    assert shown == {"a": None, "b": None, "c": None}


def test_a_total_in_the_same_report_is_hidden_or_shown_with_its_parts() -> None:
    counts = {"open": 4, "closed": 10, "completed": 5, "declined": 3, "ineligible": 2}
    totals = [Total(("completed", "declined", "ineligible"), "closed"), Total(("closed", "open"))]
    shown = check_protected(counts, totals)
    assert shown["closed"] is None  # 14 - 10 would give the 4 open away


def test_counts_published_elsewhere_are_never_hidden_to_protect() -> None:
    shown = SMALL.protect(
        {"a": 3, "b": 10, "c": 20}, [Total(("a", "b", "c"))], published_elsewhere={"b"}
    )
    assert shown == {"a": None, "b": 10, "c": None}


def test_a_share_is_hidden_with_its_whole() -> None:
    counts = {"referred:x": 3, "referred:y": 10, "referred:z": 20, "done:y": 6, "done:z": 7}
    shown = SMALL.protect(
        counts,
        [Total(("referred:x", "referred:y", "referred:z")), Total(("done:y", "done:z"))],
        hidden_with={"done:y": "referred:y", "done:z": "referred:z"},
    )
    # y's 10 is hidden to protect x's 3, and so is its share done; z's 7 done would then be
    # the total less nothing: hidden too.
    assert shown["referred:y"] is None and shown["done:y"] is None and shown["done:z"] is None


def test_nothing_is_hidden_without_a_threshold() -> None:
    counts = {"a": 1, "b": 2, "c": 3}
    assert Suppression(0).protect(counts, [Total(("a", "b", "c"))]) == counts


@st.composite
def breakdowns(draw: st.DrawFn) -> tuple[dict[str, int], list[Total]]:
    """Counts in rows and columns (a table with row totals and column totals, as a cell
    can be in a practice's row and a reason's column) and a grand total, some cells small."""
    rows, columns = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    value = st.one_of(st.integers(0, 4), st.integers(0, 40))
    counts = {f"{r},{c}": draw(value) for r in range(rows) for c in range(columns)}
    totals = []
    for r in range(rows):
        cells = tuple(f"{r},{c}" for c in range(columns))
        counts[f"row {r}"] = sum(counts[k] for k in cells)
        totals.append(Total(cells, f"row {r}"))
    for c in range(columns):
        cells = tuple(f"{r},{c}" for r in range(rows))
        counts[f"column {c}"] = sum(counts[k] for k in cells)
        totals.append(Total(cells, f"column {c}"))
    # The grand total is known (published in another report of the same filter).
    totals.append(Total(tuple(f"row {r}" for r in range(rows))))
    totals.append(Total(tuple(f"column {c}" for c in range(columns))))
    return counts, totals


@settings(max_examples=300, deadline=None)
@given(breakdowns())
def test_no_suppressed_count_can_be_worked_out_by_row_column_or_total_arithmetic(
    table: tuple[dict[str, int], list[Total]],
) -> None:
    check_protected(*table)
