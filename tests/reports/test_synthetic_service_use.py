"""``socialrx seed --synthetic`` produces the service-use fall it intends: it once added
symmetric noise to small counts and clipped at zero, which raised them (+22.8%)."""

import random
from datetime import UTC, datetime

import pytest

from socialrx.synthetic import INTENDED_SERVICE_USE_CHANGE, _outcome_pool


def test_the_synthetic_population_uses_fewer_services_by_the_intended_share() -> None:
    pool = _outcome_pool(random.Random(3), datetime(2026, 6, 1, tzinfo=UTC), size=4000)
    people = [change for person in pool for change in person
              if change["instrument"] == "service_use" and change["has_baseline"]]  # fmt: skip
    before = sum(person["before_total"] for person in people)
    after = sum(person["after_total"] for person in people)
    mean_change = (after - before) / len(people)
    assert pytest.approx(-0.0875) == INTENDED_SERVICE_USE_CHANGE
    assert mean_change < 0  # fewer contacts per person on average
    # The size too: within 2 points of the intended 8.75% fall in all contacts.
    assert (after - before) / before == pytest.approx(INTENDED_SERVICE_USE_CHANGE, abs=0.02)
    # And each item falls on its own: the improvement (before - after) sums above zero.
    for item in ("gp_consultations", "ae_attendances", "outpatient_appointments"):
        assert sum(person["item_improvement"][item] for person in people) > 0
