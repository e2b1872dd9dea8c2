"""For random services, no count suppressed in an exported table can be worked out from the
shown counts of that table and the totals of the same filter's other tables; nor one of the
return on investment's, from the service use the outcomes report publishes for the same
people."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from activities.report_facts import change_row
from catalogue.tables import Attribute, Service, TaxonomyTerm
from catalogue.taxonomy import SOCIAL_PRESCRIBING_TAXONOMY_ID
from core.settings import ReturnOnInvestmentSettings
from domain.enums import ClosureReason, ServiceReferralStatus
from domain.measures import DEFAULT_THRESHOLDS
from domain.messages import MeasureAnswers
from domain.report_tables import OutcomeChange, ReferralMilestone
from domain.tables import Referral, ServiceReferral
from reports.filters import ReportFilter
from reports.roi import SERVICE_USE, ReturnOnInvestment, RoiInputs, return_on_investment
from reports.small_numbers import NONE, Suppression
from reports.tables import TABLES, Table, TableName
from tests.support.disclosure import Equation, recovered
from tests.support.known_data import (
    JANUARY,
    MARCH,
    STAGES,
    load_demo_and_elsewhere,
    referral,
)
from tests.support.reports import load_service

THRESHOLD = 5
PRACTICES = (("A81001", "millbrook-pcn"), ("A81002", "millbrook-pcn"), ("X99001", "elsewhere-pcn"))
WORKERS = ("lw-amira", "lw-ben", "lw-elsewhere")
REASONS = (None, *ClosureReason)
ROW_COUNTS = (":referred", ":total", ":sent", ":people")
"""Counts whose rows are only listed when they are 1 or more (a practice that referred)."""

# One referral: practice, link worker, how it closed (None: open), stages reached, and the
# services it was sent to with whether the person started.
referrals = st.lists(
    st.tuples(
        st.integers(0, len(PRACTICES) - 1),
        st.integers(0, len(WORKERS) - 1),
        st.sampled_from(REASONS),
        st.integers(0, len(STAGES)),
        st.lists(st.tuples(st.integers(0, 5), st.booleans()), max_size=2, unique_by=lambda s: s[0]),
    ),
    max_size=40,
)


@pytest.fixture(scope="module")
def directory(database_url: str) -> Engine:
    return load_service(database_url, load_demo_and_elsewhere)


def load(session: Session, services: list[tuple[str, str]], drawn: list[Any]) -> None:
    for table in (ServiceReferral, OutcomeChange, ReferralMilestone, Referral):
        session.exec(delete(table))
    for practice, worker, reason, depth, sent in drawn:
        ods, team = PRACTICES[practice]
        m = referral(session, ods, team, JANUARY, ",sp-arts,", WORKERS[worker])
        for stage in STAGES[:depth]:
            setattr(m, stage, JANUARY + timedelta(days=depth))
        if reason is not None:
            m.closure_reason, m.closed_at = reason, JANUARY + timedelta(days=30)
        for index, started in sent:
            service, organisation = services[index]
            session.add(ServiceReferral(
                id=uuid4(), referral_id=m.referral_id, service_id=service,
                organisation_id=organisation, sent_at=JANUARY,
                respond_by=JANUARY + timedelta(days=14),
                responded_at=JANUARY + timedelta(days=index + 1),
                status=ServiceReferralStatus.STARTED if started
                else ServiceReferralStatus.DECLINED,
            ))  # fmt: skip
    session.commit()


def cells(name: TableName, table: Table) -> dict[str, int | None]:
    """Each count of the table, named by its row and column; and a practice's completed,
    which its share of its referrals gives away when both are shown."""
    found: dict[str, int | None] = {}
    for row in table.rows:
        values = dict(zip(table.columns, row, strict=True))
        # A row is named by its first column, or its first two where the first repeats.
        two = name in (TableName.UPTAKE, TableName.WAITS, TableName.OUTCOMES)
        key = f"{row[0]}:{row[1]}" if two else str(row[0])
        for column in table.count_columns:
            found[f"{key}:{column}"] = values[column]
        if name == TableName.PRACTICES:
            pct, referred = values["completed_pct"], values["referred"]
            found[f"{key}:completed"] = (
                None if pct is None or referred is None else round(pct * referred / 100)
            )
    return found


def known(total: int) -> bool:
    """A total published in another table is known exactly unless it is small."""
    return not 0 < total < THRESHOLD


def sums(name: TableName, truth: dict[str, int | None], facts: dict[str, Any]) -> list[Equation]:
    """The arithmetic a reader can do on the table: its rows add up to the totals other
    tables of the same filter publish, and an organisation's or a category's uptake adds up
    its services' (the directory says which services are whose). Waits and uptake add up to
    no published total: all answers and all sent are in no table."""

    def total_of(suffix: str, prefix: str = "") -> Equation | None:
        terms = {k: 1 for k in truth if k.endswith(suffix) and k.startswith(prefix)}
        value = sum(truth[k] or 0 for k in terms)
        return (terms, value) if terms and known(value) else None

    candidates: list[Equation | None] = []
    if name == TableName.CLOSURES:
        candidates.append(total_of(":count"))
    elif name == TableName.PRACTICES:
        candidates += [total_of(":referred"), total_of(":completed")]
    elif name == TableName.CASELOAD:
        candidates += [total_of(":open"), total_of(":total")]
    elif name == TableName.UPTAKE:
        for column in ("sent", "started"):
            for whole, parts in facts["services_of"].items():
                if f"{whole}:{column}" not in truth:
                    continue  # nothing sent to it: no row
                terms = {f"service:{s}:{column}": 1 for s in parts}
                terms = {k: 1 for k in terms if k in truth} | {f"{whole}:{column}": -1}
                candidates.append((terms, 0))
    return [c for c in candidates if c is not None]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=referrals)
def test_no_suppressed_count_of_any_exported_table_can_be_worked_out(
    directory: Engine, drawn: list[Any]
) -> None:
    with Session(directory) as session:
        services = [
            (s, o) for s, o in session.exec(
                select(Service.id, Service.organization_id).order_by(Service.organization_id)
            ).all()[:6]
        ]  # fmt: skip
        categories = session.exec(
            select(Attribute.service_id, Attribute.taxonomy_term_id)
            .join(TaxonomyTerm, col(TaxonomyTerm.id) == col(Attribute.taxonomy_term_id))
            .where(col(TaxonomyTerm.taxonomy_id) == SOCIAL_PRESCRIBING_TAXONOMY_ID)
            .distinct()
        ).all()
        services_of: dict[str, set[str]] = defaultdict(set)
        for service, organisation in services:
            services_of[f"organisation:{organisation}"].add(service)
        chosen = {s for s, _ in services}
        for categorised, term in categories:
            if categorised in chosen:
                services_of[f"category:{term}"].add(str(categorised))
        load(session, services, drawn)
        for name in TableName:
            published = cells(name, TABLES[name](session, ReportFilter(), Suppression(THRESHOLD)))
            truth = cells(name, TABLES[name](session, ReportFilter(), NONE))
            assert published.keys() == truth.keys()
            for key, shown in published.items():
                value = truth[key]
                assert shown in (None, value), f"{name} {key}: {shown} is not {value}"
                assert shown is None or not 0 < (value or 0) < THRESHOLD, f"{name} {key} small"
            # A row of these is there only for a count of 1 or more. Any other hidden count
            # may be a zero hidden to protect another, and the reader cannot tell which.
            low = {k: 1 if k.endswith(ROW_COUNTS) else 0 for k in published}
            equations = sums(name, truth, {"services_of": services_of})
            leaked = {k for k in recovered(published, equations, low) if (truth[k] or 0) > 0}
            assert not leaked, f"{name}: {sorted(leaked)} worked out from {published}"


# One person followed up: each service-use item's contacts before and after, mostly none,
# so that an item's total is often small beside others that are not.
contacts = st.sampled_from((0, 0, 0, 0, 1, 2, 5))
service_use = st.lists(
    st.tuples(*(st.tuples(contacts, contacts) for _ in SERVICE_USE.items)), max_size=30
)


def roi_cells(report: ReturnOnInvestment) -> dict[str, int | None]:
    found = {"people": report.people, "referrals_in_period": report.referrals_in_period}
    for i in report.items:
        found |= {f"before:{i.item}": i.contacts_before, f"after:{i.item}": i.contacts_after}
    return found


def roi_sums(truth: dict[str, int | None]) -> list[Equation]:
    """The outcomes report of the same filter publishes the contacts before and after over
    all items (suppressed if small) and, when it shows both, each item's mean change (before
    less after, over the people): the items add up to the first, and each item's after is
    its before less the second."""
    equations: list[Equation] = []
    for side in ("before", "after"):
        terms = {f"{side}:{item}": 1 for item in SERVICE_USE.items}
        value = sum(truth[k] or 0 for k in terms)
        if known(value):
            equations.append((terms, value))
    if len(equations) < 2:
        return equations
    for item in SERVICE_USE.items:
        before, after = truth[f"before:{item}"] or 0, truth[f"after:{item}"] or 0
        equations.append(({f"before:{item}": 1, f"after:{item}": -1}, before - after))
    return equations


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=service_use)
def test_no_suppressed_count_of_the_return_on_investment_can_be_worked_out(
    directory: Engine, drawn: list[Any]
) -> None:
    with Session(directory) as session:
        load(session, [], [])
        for person in drawn:
            before, after = (
                MeasureAnswers(instrument=SERVICE_USE.code, answers=dict(zip(
                    SERVICE_USE.items, (counts[side] for counts in person), strict=True
                )))
                for side in (0, 1)
            )  # fmt: skip
            m = referral(session, "A81001", "millbrook-pcn", JANUARY, ",sp-arts,", "lw-ben")
            session.add(change_row(m.referral_id, "follow_up_2", before, after, MARCH,
                                   DEFAULT_THRESHOLDS))  # fmt: skip
        session.commit()
        inputs = RoiInputs(settings=ReturnOnInvestmentSettings(), programme_cost=Decimal(1000))
        report = return_on_investment(session, ReportFilter(), Suppression(THRESHOLD), inputs)
        published = roi_cells(report)
        truth = roi_cells(return_on_investment(session, ReportFilter(), NONE, inputs))
    for key, shown in published.items():
        value = truth[key]
        assert shown in (None, value), f"{key}: {shown} is not {value}"
        assert shown is None or not 0 < (value or 0) < THRESHOLD, f"{key} small"
    for item in report.items:
        # Each item's counts are shown as a pair, and its cost with them.
        assert (item.contacts_before is None) == (item.contacts_after is None), item.item
        assert item.contacts_before is not None or item.annual_cost_change is None, item.item
    if any(i.contacts_before is None for i in report.items if i.unit_cost is not None):
        assert report.nhs_cost_avoided is None and report.roi_pence_per_pound is None
    # A hidden count may be a zero hidden to protect another.
    low = dict.fromkeys(published, 0)
    leaked = {k for k in recovered(published, roi_sums(truth), low) if (truth[k] or 0) > 0}
    assert not leaked, f"roi: {sorted(leaked)} worked out from {published}"
