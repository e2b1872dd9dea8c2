"""Small-number suppression: counts below the threshold never leave the service.

A suppressed count is ``None``; a share, a change or a mean is only computed from counts
that were shown, so nothing suppressed can be worked back out of a percentage.
"""

from dataclasses import dataclass


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


NONE = Suppression(0)
