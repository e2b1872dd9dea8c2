"""Uptake: of the referrals sent to community services, how many people started, by
service, by taxonomy category and by organisation."""

from collections import defaultdict

from pydantic import BaseModel, Field
from sqlalchemy import case, func
from sqlmodel import Session, col, select

from catalogue.tables import Attribute, Organization, Service, TaxonomyTerm
from catalogue.taxonomy import SOCIAL_PRESCRIBING_TAXONOMY_ID
from domain.enums import ServiceReferralStatus
from domain.report_tables import ReferralMilestone as M
from domain.tables import ServiceReferral as SR
from reports.filters import ReportFilter
from reports.small_numbers import Suppression, Total


class UptakeRow(BaseModel):
    id: str
    name: str
    sent: int | None
    started: int | None
    uptake_pct: float | None = Field(description="started / sent, in per cent.")


class Uptake(BaseModel):
    by_service: list[UptakeRow]
    by_category: list[UptakeRow]
    by_organisation: list[UptakeRow]


def uptake(session: Session, filters: ReportFilter, small: Suppression) -> Uptake:
    # One GROUP BY over the service referrals; services, categories and organisations are
    # a few hundred rows at most, so they are rolled up from it here.
    started = func.sum(case((col(SR.status) == ServiceReferralStatus.STARTED, 1), else_=0))
    on_sent, conditions = filters.service_referral_conditions()
    query = select(col(SR.service_id), col(SR.organisation_id), func.count(), started)
    query = query.where(*on_sent)
    if conditions:
        # Only a filter needs the referral's facts; unfiltered, the join would be wasted work.
        query = query.join(M, col(SR.referral_id) == col(M.referral_id)).where(*conditions)
    rows = session.execute(query.group_by(col(SR.service_id), col(SR.organisation_id))).all()
    by_service: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_organisation: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    services_of: dict[str, set[str]] = defaultdict(set)
    for service, organisation, sent, took_up in rows:
        services_of[f"organisation:{organisation}"].add(f"service:{service}")
        for totals, key in ((by_service, service), (by_organisation, organisation)):
            totals[key][0] += int(sent)
            totals[key][1] += int(took_up or 0)
    by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for service, term in _categories(session, list(by_service)):
        services_of[f"category:{term}"].add(f"service:{service}")
        by_category[term][0] += by_service[service][0]
        by_category[term][1] += by_service[service][1]
    groups = {"service": by_service, "organisation": by_organisation, "category": by_category}
    shown = _protected(groups, services_of, small)
    services = dict(session.exec(select(Service.id, Service.name)).all())
    organisations = dict(session.exec(select(Organization.id, Organization.name)).all())
    terms = dict(session.exec(select(TaxonomyTerm.id, TaxonomyTerm.name)).all())
    return Uptake(
        by_service=_rows("service", by_service, services, shown, small),
        by_category=_rows("category", by_category, terms, shown, small),
        by_organisation=_rows("organisation", by_organisation, organisations, shown, small),
    )


def _protected(
    groups: dict[str, dict[str, list[int]]],
    services_of: dict[str, set[str]],
    small: Suppression,
) -> dict[str, int | None]:
    """Sent and started of every row, suppressed together: an organisation's or a
    category's row adds up its services' rows (which services are whose is public, in the
    directory). All referrals sent is published nowhere, so it is no known total."""
    shown: dict[str, int | None] = {}
    for column, index in (("sent", 0), ("started", 1)):
        counts = {
            f"{column}:{group}:{key}": pair[index]
            for group, rows in groups.items()
            for key, pair in rows.items()
        }
        totals = [
            Total(tuple(f"{column}:{s}" for s in sorted(parts)), f"{column}:{whole}")
            for whole, parts in services_of.items()
        ]
        shown |= small.protect(counts, totals)
    return shown


def _categories(session: Session, service_ids: list[str]) -> list[tuple[str, str]]:
    """(service, social prescribing term) pairs of these services."""
    if not service_ids:
        return []
    pairs = session.exec(
        select(Attribute.service_id, Attribute.taxonomy_term_id)
        .join(TaxonomyTerm, col(TaxonomyTerm.id) == col(Attribute.taxonomy_term_id))
        .where(col(TaxonomyTerm.taxonomy_id) == SOCIAL_PRESCRIBING_TAXONOMY_ID)
        .where(col(Attribute.service_id).in_(service_ids))
        .distinct()
    ).all()
    return [(service, term) for service, term in pairs if service and term]


def _rows(
    group: str,
    totals: dict[str, list[int]],
    names: dict[str, str],
    shown: dict[str, int | None],
    small: Suppression,
) -> list[UptakeRow]:
    result = []
    for key in sorted(totals):
        sent, started = shown[f"sent:{group}:{key}"], shown[f"started:{group}:{key}"]
        result.append(
            UptakeRow(
                id=key,
                name=names.get(key, key),
                sent=sent,
                started=started,
                uptake_pct=small.share(started, sent),
            )
        )
    return result
