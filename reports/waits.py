"""Waiting times: referral to first contact attempt, and how fast organisations answer."""

from pydantic import BaseModel
from sqlalchemy import join
from sqlmodel import Session, col, select

from catalogue.tables import Organization
from domain.enums import ServiceReferralStatus
from domain.report_tables import ReferralMilestone as M
from domain.tables import ServiceReferral as SR
from reports.filters import ReportFilter
from reports.small_numbers import Suppression
from reports.sql import days_between, percentiles


class Wait(BaseModel):
    people: int | None
    median_days: float | None
    p90_days: float | None


class OrganisationWait(Wait):
    organisation_id: str
    organisation_name: str


class Waits(BaseModel):
    first_contact: Wait
    organisation_response: list[OrganisationWait]


def _wait(found: tuple[int, list[float]] | None, small: Suppression) -> Wait:
    n, (median, p90) = found or (0, [0.0, 0.0])
    if not small.enough(n):
        return Wait(people=small.count(n), median_days=None, p90_days=None)
    return Wait(people=n, median_days=median, p90_days=p90)


def waits(session: Session, filters: ReportFilter, small: Suppression) -> Waits:
    first = percentiles(
        session, days_between(col(M.first_attempt_at), col(M.referred_at)), filters.conditions()
    )
    on_sent, conditions = filters.service_referral_conditions()
    by_organisation = percentiles(
        session,
        days_between(col(SR.responded_at), col(SR.sent_at)),
        # An auto-declined referral was never answered: it is not a response time.
        [col(SR.status) != ServiceReferralStatus.AUTO_DECLINED, *on_sent, *conditions],
        group=col(SR.organisation_id),
        # Only a filter needs the referral's facts.
        from_=join(SR, M, col(SR.referral_id) == col(M.referral_id)) if conditions else SR,
    )
    names = dict(session.exec(select(Organization.id, Organization.name)).all())
    return Waits(
        first_contact=_wait(first.get(None), small),
        organisation_response=[
            OrganisationWait(
                organisation_id=organisation,
                organisation_name=names.get(organisation, organisation),
                **_wait(found, small).model_dump(),
            )
            for organisation, found in sorted(by_organisation.items())
        ],
    )
