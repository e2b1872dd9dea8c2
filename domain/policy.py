"""Deadlines of the referral process.

Every deadline is an ISO 8601 duration (pydantic reads ``P14D``, ``PT30S`` and so on). A
referral copies the policy into its workflow input when it starts, so changing a setting
never moves the deadlines of referrals already running.
"""

from datetime import datetime, timedelta

from pydantic import BaseModel, Field, field_validator


class ReferralPolicy(BaseModel):
    first_contact_due: timedelta = Field(
        default=timedelta(days=5),
        description="From assignment to the first contact attempt. Whole days count as "
        "working days (Monday to Friday) when first_contact_in_working_days is on.",
    )
    first_contact_escalation_after: timedelta = Field(
        default=timedelta(days=2),
        description="From the first-contact reminder to escalation to the team lead.",
    )
    first_contact_in_working_days: bool = True
    contact_attempts_before_giving_up: int = Field(default=3, ge=1)
    contact_attempts_min_span: timedelta = Field(
        default=timedelta(days=14),
        description="Failed attempts must spread over at least this long before giving up.",
    )
    organisation_reminder_after: timedelta = timedelta(days=7)
    organisation_response_due: timedelta = timedelta(days=14)
    follow_up_checkpoints: list[timedelta] = Field(
        default=[timedelta(weeks=13), timedelta(weeks=17)],
        description="Offsets from the first uptake at which follow-up checkpoints open.",
    )
    follow_up_window: timedelta = Field(
        default=timedelta(days=14), description="How long each checkpoint stays open."
    )
    intake_wait: timedelta = Field(
        default=timedelta(minutes=2),
        description="How long a new workflow waits for the API to commit its referral's rows "
        "before it ends without doing anything (the API failed between the two).",
    )

    @field_validator("follow_up_checkpoints")
    @classmethod
    def _checkpoints_ascend(cls, offsets: list[timedelta]) -> list[timedelta]:
        if not offsets:
            raise ValueError("at least one follow-up checkpoint is needed")
        if offsets != sorted(offsets):
            raise ValueError("follow-up checkpoints must be in ascending order")
        return offsets

    def first_contact_deadline(self, assigned_at: datetime) -> datetime:
        return self._later(assigned_at, self.first_contact_due)

    def escalation_deadline(self, reminded_at: datetime) -> datetime:
        return self._later(reminded_at, self.first_contact_escalation_after)

    def _later(self, start: datetime, duration: timedelta) -> datetime:
        if self.first_contact_in_working_days:
            return add_working_days(start, duration)
        return start + duration


def add_working_days(start: datetime, duration: timedelta) -> datetime:
    """Add ``duration`` to ``start``, counting its whole days as working days.

    Any part of a day is added as it is, so compressed durations such as ``PT5S`` behave as
    plain durations. Bank holidays are not known here and count as working days.
    """
    whole_days = duration.days
    moment = start + (duration - timedelta(days=whole_days))
    while whole_days > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            whole_days -= 1
    return moment
