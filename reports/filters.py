"""The filters every report takes: period, practice, link-worker team, organisation, category."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, model_validator
from sqlalchemy import ColumnElement, exists
from sqlalchemy.orm import aliased
from sqlmodel import col

from domain.messages import Code
from domain.report_tables import ReferralMilestone
from domain.tables import ServiceReferral


class ReportFilter(BaseModel):
    """Which referrals a report counts; the period is the date each referral was received."""

    start: date | None = Field(default=None, description="Referred on or after this date.")
    end: date | None = Field(default=None, description="Referred on or before this date.")
    practice: Code | None = Field(default=None, description="GP practice ODS code.")
    team: Code | None = Field(default=None, description="Link-worker team id.")
    organisation: Code | None = Field(
        default=None,
        description="Community organisation the referral was sent to; uptake and "
        "organisation response times count that organisation's service referrals only.",
    )
    category: Code | None = Field(
        default=None, description="Taxonomy term among the referral's recorded needs."
    )

    # Not a field: no caller can set it. The practices of a commissioner's area (None: all).
    _area: frozenset[str] | None = PrivateAttr(default=None)

    def within(self, practices: frozenset[str] | None) -> "ReportFilter":
        """These filters, counting only referrals of ``practices`` (None: every practice)."""
        scoped = self.model_copy()
        scoped._area = practices
        return scoped

    @property
    def area(self) -> frozenset[str] | None:
        """The practices of the commissioner's area these filters are within (None: all)."""
        return self._area

    @model_validator(mode="after")
    def _period_in_order(self) -> "ReportFilter":
        if self.start and self.end and self.end < self.start:
            raise ValueError("end must not be before start")
        return self

    def conditions(self, *, organisation: bool = True) -> list[ColumnElement[bool]]:
        """WHERE clauses on ``referral_milestone`` (joined by ``referral_id`` elsewhere);
        without the organisation's when ``organisation`` is false."""
        m = ReferralMilestone
        where: list[ColumnElement[bool]] = []
        if self.start:
            where.append(col(m.referred_at) >= datetime.combine(self.start, time(), UTC))
        if self.end:
            after = datetime.combine(self.end + timedelta(days=1), time(), UTC)
            where.append(col(m.referred_at) < after)
        if self.practice:
            where.append(col(m.practice_ods) == self.practice)
        if self._area is not None:
            where.append(col(m.practice_ods).in_(sorted(self._area)))
        if self.team:
            where.append(col(m.team_id) == self.team)
        if self.organisation and organisation:
            # Its own alias: a report that also reads service_referral would otherwise
            # correlate the subquery to its own and leave it with no FROM at all. (Uptake
            # and waits, which count service referrals, use service_referral_conditions.)
            sent = aliased(ServiceReferral)
            where.append(
                exists()
                .where(col(sent.referral_id) == col(m.referral_id))
                .where(col(sent.organisation_id) == self.organisation)
            )
        if self.category:
            # Codes are [A-Za-z0-9_.:-]; '_' is a LIKE wildcard, so escape it.
            code = self.category.replace("_", r"\_")
            where.append(col(m.need_codes).like(f"%,{code},%", escape="\\"))
        return where

    def service_referral_conditions(
        self,
    ) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
        """For reports that count service referrals (uptake, organisation response times):
        WHERE clauses on ``service_referral`` and on ``referral_milestone`` (join it only if
        there are any).

        The organisation filter picks that organisation's own service referrals: a
        referral also sent elsewhere must not bring its other organisations' figures in.
        """
        own = [col(ServiceReferral.organisation_id) == self.organisation]
        return (own if self.organisation else []), self.conditions(organisation=False)

    def as_params(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)
