"""What a reader can work out from a published report: the attacker of the disclosure
tests, written apart from ``reports.small_numbers`` so that it checks it."""

from itertools import combinations

Equation = tuple[dict[str, int], int]
"""``sum(coefficient * cell) = constant``."""


def recovered(
    shown: dict[str, int | None], equations: list[Equation], low: dict[str, int]
) -> set[str]:
    """What a reader works out with row, column and total arithmetic: each sum, and each sum
    less another, with the shown counts put in; a sum left with one hidden count gives it,
    and so does one whose hidden counts can only all be at their least (each at least
    ``low``: 1 for a hidden count, since a zero is shown)."""
    derived = list(equations)
    for (a, ca), (b, cb) in combinations(equations, 2):
        for sign in (1, -1):
            terms = {k: a.get(k, 0) + sign * b.get(k, 0) for k in a.keys() | b.keys()}
            derived.append(({k: v for k, v in terms.items() if v}, ca + sign * cb))
    found = set()
    for terms, constant in derived:
        rest = constant - sum(c * (shown[k] or 0) for k, c in terms.items() if shown[k] is not None)
        hidden = {k: c for k, c in terms.items() if shown[k] is None}
        at_least = all(c == 1 for c in hidden.values()) and rest == sum(low[k] for k in hidden)
        if len(hidden) == 1 or (hidden and at_least):
            found |= set(hidden)
    return found
