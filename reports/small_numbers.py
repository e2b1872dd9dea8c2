"""Small-number suppression: counts below the threshold never leave the service, and neither
does anything they could be worked back out of.

Primary suppression hides each count from 1 to threshold - 1. Alone it leaks: a hidden
practice's count is the funnel's total less the practices shown. So every report whose
counts add up (reasons to the referrals, practices to the total, services to their
organisation) declares those sums (``Total``) and goes through ``Suppression.protect``, which
hides further counts (secondary suppression) until no hidden count can be worked out from
the rest, by the sums or by the bounds a reader knows. A suppressed count is ``None``; a
share, a change or a mean is only computed from counts that were shown, so nothing
suppressed can be worked back out of a percentage either.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

HIDDEN = "[c]"
"""How the CSV and the pages show a suppressed count (the Government Statistical Service's
symbol for confidential). The same for a small count and for one hidden to protect it, so
that which is which is not given away."""

UNBOUNDED = 10**12
"""The highest a count could be, as far as a reader can tell, with nothing else to go by."""


@dataclass(frozen=True)
class Total:
    """``parts`` add up to ``total``: a count of the same report or, when ``None``, a figure
    every reader is taken to know unless it is small (another report of the same filter may
    publish it, as the funnel publishes the referrals that practices and closure reasons add
    up to, suppressed if small)."""

    parts: tuple[str, ...]
    total: str | None = None


@dataclass(frozen=True)
class Suppression:
    threshold: int
    """Counts 1..threshold-1 are suppressed; 0 is shown. A threshold of 0 suppresses nothing
    (internal use only)."""

    def count(self, n: int | None) -> int | None:
        if n is None:
            return None
        return None if 0 < n < self.threshold else n

    def share(self, part: int | None, whole: int | None) -> float | None:
        """``part / whole`` as a percentage, from shown counts only."""
        if self.count(part) is None or self.count(whole) is None or not whole:
            return None
        assert part is not None
        return round(100.0 * part / whole, 1)

    def change(self, before: int | None, after: int | None) -> float | None:
        """``(after - before) / before`` as a percentage, from shown counts only: with
        ``before`` shown, a change from a hidden ``after`` would give ``after`` away."""
        if self.count(before) is None or self.count(after) is None or not before:
            return None
        assert after is not None
        return round(100.0 * (after - before) / before, 1)

    def enough(self, n: int) -> bool:
        """Whether a figure (a mean, a percentile) over ``n`` people may be shown."""
        return n > 0 and self.count(n) is not None

    def protect(
        self,
        counts: Mapping[str, int],
        totals: Iterable[Total],
        *,
        published_elsewhere: Collection[str] = (),
        hidden_with: Mapping[str, str] | None = None,
    ) -> dict[str, int | None]:
        """The counts as they may leave the service: small ones suppressed, and as many more
        as it takes that no suppressed count can be worked out from the others.

        ``published_elsewhere`` are counts another report of the same filter shows with
        primary suppression only (the funnel's completed, say): hiding them here would
        protect nothing, so they are never chosen. ``hidden_with`` maps a count that is only
        shown through a percentage of another (a practice's completed, through its share of
        its referrals) to that other: when the other is hidden, so is the percentage.
        """
        totals = list(totals)
        # A count that is the whole of a known total is as good as published.
        published_elsewhere = {*published_elsewhere} | {
            t.parts[0] for t in totals if t.total is None and len(t.parts) == 1
        }
        followers = hidden_with or {}
        primary = {key for key, n in counts.items() if self.count(n) is None}
        hidden = set(primary)
        while True:
            hidden |= {key for key, leader in followers.items() if leader in hidden}
            found = disclosed(counts, totals, hidden, primary, self.threshold)
            if not found:
                return {key: None if key in hidden else n for key, n in counts.items()}
            added = self._second_to_hide(counts, totals, hidden, found, published_elsewhere)
            if not added:
                # No count is left to hide beside it: hide every count the sums touch
                # rather than publish one that can be worked out.
                touched = {key for t in totals for key in (*t.parts, t.total) if key}
                if touched <= hidden:
                    return {key: None if key in hidden else n for key, n in counts.items()}
                hidden |= touched
            hidden |= added

    def _second_to_hide(
        self,
        counts: Mapping[str, int],
        totals: list[Total],
        hidden: set[str],
        found: list[str],
        published_elsewhere: Collection[str],
    ) -> set[str]:
        """The smallest shown count in a sum with the first disclosed one: the least lost. A
        zero only when nothing else is left, as a zero is otherwise always shown."""
        for key in found:
            candidates = [
                (counts[other] == 0, counts[other], other)
                for total in totals
                if key in total.parts or key == total.total
                for other in (*total.parts, total.total)
                if other is not None and other not in hidden and other not in published_elsewhere
            ]
            if candidates:
                return {min(candidates)[2]}
        return set()


def disclosed(
    counts: Mapping[str, int],
    totals: Iterable[Total],
    hidden: Collection[str],
    primary: Collection[str],
    threshold: int,
) -> list[str]:
    """The hidden counts a reader can work out exactly from the shown ones and the sums.

    The reader is taken to know which hidden counts are small (1..threshold-1) and which
    were hidden to protect them (threshold or more), and every sum's total (``Total``).
    They work a count out by linear arithmetic over all the sums together (a hidden count
    the sums pin down alone), or by narrowing each hidden count's bounds sum by sum until
    one is left with a single value.
    """
    unknowns = sorted(hidden)
    if not unknowns:
        return []
    equations: list[tuple[dict[str, int], int]] = []
    for total in totals:
        known = sum(counts[key] for key in total.parts)
        if total.total is None and 0 < known < threshold:
            continue  # where it is published, it is suppressed itself
        terms = [(key, 1) for key in total.parts]
        if total.total is not None:
            terms.append((total.total, -1))
        coefficients: dict[str, int] = {}
        constant = known if total.total is None else 0
        for key, sign in terms:
            if key in hidden:
                coefficients[key] = coefficients.get(key, 0) + sign
            else:
                constant -= sign * counts[key]
        if any(coefficients.values()):
            equations.append((coefficients, constant))
    # Small counts are 1..threshold-1; one hidden to protect them is at least the threshold
    # (a percentage hidden with its whole may hide a zero).
    low = {k: 1 if k in primary else min(counts[k], threshold) for k in unknowns}
    high = {k: threshold - 1 if k in primary else UNBOUNDED for k in unknowns}
    pinned = _pinned_by_arithmetic(equations) | _pinned_by_bounds(equations, low, high)
    # A hidden zero worked out is no small number: a zero is shown anyway.
    return [key for key in unknowns if key in pinned and counts[key] > 0]


def _pinned_by_arithmetic(equations: list[tuple[dict[str, int], int]]) -> set[str]:
    """Unknowns the sums determine together: in the reduced row echelon form of the sums,
    those whose row holds nothing else."""
    pivots: dict[str, dict[str, Fraction]] = {}
    for coefficients, _ in equations:
        row = {key: Fraction(value) for key, value in coefficients.items() if value}
        for column, pivot_row in pivots.items():
            _subtract(row, row.get(column, Fraction(0)), pivot_row)
        if not row:
            continue
        column = min(row)
        row = {key: value / row[column] for key, value in row.items()}
        for pivot_row in pivots.values():
            _subtract(pivot_row, pivot_row.get(column, Fraction(0)), row)
        pivots[column] = row
    return {column for column, row in pivots.items() if len(row) == 1}


def _subtract(row: dict[str, Fraction], factor: Fraction, other: dict[str, Fraction]) -> None:
    """``row -= factor * other``, keeping only the non-zero entries."""
    if not factor:
        return
    for key, value in other.items():
        row[key] = row.get(key, Fraction(0)) - factor * value
        if not row[key]:
            del row[key]


def _pinned_by_bounds(
    equations: list[tuple[dict[str, int], int]],
    low: dict[str, int],
    high: dict[str, int],
) -> set[str]:
    """Unknowns whose bounds, narrowed sum by sum until nothing changes, meet."""
    for _ in range(100):  # narrowing converges in a few passes; the cap is a backstop
        changed = False
        for coefficients, constant in equations:
            for key, sign in coefficients.items():
                if abs(sign) != 1:
                    continue
                others = [(k, c) for k, c in coefficients.items() if k != key and c]
                # sign * key = constant - sum(others): the others' sum bounds the key.
                rest_low = sum(c * (low[k] if c > 0 else high[k]) for k, c in others)
                rest_high = sum(c * (high[k] if c > 0 else low[k]) for k, c in others)
                lo, hi = constant - rest_high, constant - rest_low
                if sign < 0:
                    lo, hi = -hi, -lo
                if lo > low[key] or hi < high[key]:
                    low[key], high[key] = max(low[key], lo), min(high[key], hi)
                    changed = True
        if not changed:
            break
    return {key for key in low if low[key] >= high[key]}


NONE = Suppression(0)
