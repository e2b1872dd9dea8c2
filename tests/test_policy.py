"""Deadlines in working days, worked by hand."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.policy import ReferralPolicy, add_working_days

MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FRIDAY_NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (MONDAY_NOON, timedelta(days=5), datetime(2026, 11, 30, 12, 0, tzinfo=UTC)),
        (FRIDAY_NOON, timedelta(days=1), datetime(2026, 11, 30, 12, 0, tzinfo=UTC)),
        (FRIDAY_NOON, timedelta(days=5), datetime(2026, 12, 4, 12, 0, tzinfo=UTC)),
        (MONDAY_NOON, timedelta(days=2, hours=3), datetime(2026, 11, 25, 15, 0, tzinfo=UTC)),
        # Compressed durations for demos pass through as plain time.
        (FRIDAY_NOON, timedelta(seconds=5), FRIDAY_NOON + timedelta(seconds=5)),
    ],
)
def test_whole_days_count_as_working_days(
    start: datetime, duration: timedelta, expected: datetime
) -> None:
    assert add_working_days(start, duration) == expected


def test_calendar_days_when_working_days_are_switched_off() -> None:
    policy = ReferralPolicy(first_contact_in_working_days=False)
    assert policy.first_contact_deadline(FRIDAY_NOON) == FRIDAY_NOON + timedelta(days=5)


def test_policy_reads_iso_8601_durations() -> None:
    policy = ReferralPolicy.model_validate(
        {"organisation_response_due": "P14D", "follow_up_checkpoints": ["PT20S", "PT40S"]}
    )
    assert policy.organisation_response_due == timedelta(days=14)
    assert policy.follow_up_checkpoints == [timedelta(seconds=20), timedelta(seconds=40)]


def test_checkpoints_must_ascend() -> None:
    with pytest.raises(ValueError, match="ascending"):
        ReferralPolicy.model_validate({"follow_up_checkpoints": ["P20D", "P10D"]})
