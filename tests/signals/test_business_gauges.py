"""The business gauges count what an operator must act on, straight from the read model,
and /metrics shows them (with the rules on who may scrape)."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlmodel import Session

from api.main import create_app
from core.settings import MetricsSettings, Settings
from domain.enums import (
    AssigneeKind,
    OutboxStatus,
    ReferralStatus,
    ServiceReferralStatus,
    TaskKind,
    TaskStatus,
)
from domain.tables import OutboxMessage, Referral, ServiceReferral, Task
from reports.signals import operational_counts
from tests.support.outbox import make_referral, queue

NOW = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)


def task(referral_id: UUID, kind: TaskKind, due_at: datetime, status: TaskStatus) -> Task:
    return Task(
        referral_id=referral_id,
        step_key=f"step-{uuid4().hex[:8]}",
        kind=kind,
        assignee_kind=AssigneeKind.LINK_WORKER,
        assignee_id="lw-1",
        status=status,
        due_at=due_at,
    )


def service_referral(
    referral_id: UUID, sent_at: datetime, status: ServiceReferralStatus
) -> ServiceReferral:
    return ServiceReferral(
        id=uuid4(),
        referral_id=referral_id,
        service_id="svc-1",
        organisation_id="org-1",
        status=status,
        sent_at=sent_at,
        respond_by=sent_at + timedelta(days=14),
    )


def fill(engine: Engine) -> None:
    """Three open referrals (one contacting; the messages' referral is received too) and one
    closed; tasks overdue, due later, done; messages pending, dead and sent; service referrals
    answered and not."""
    referral_id = make_referral(engine)  # received
    contacting, closed = make_referral(engine), make_referral(engine)
    _pending, dead, sent = queue(engine, 3)
    with Session(engine) as session:
        session.get_one(Referral, contacting).status = ReferralStatus.CONTACTING
        session.get_one(Referral, closed).status = ReferralStatus.CLOSED
        session.get_one(OutboxMessage, dead).status = OutboxStatus.DEAD
        session.get_one(OutboxMessage, sent).status = OutboxStatus.SENT
        session.add_all([
            task(referral_id, TaskKind.FIRST_CONTACT, NOW - timedelta(hours=1), TaskStatus.OPEN),
            task(contacting, TaskKind.FIRST_CONTACT, NOW - timedelta(days=3), TaskStatus.OPEN),
            task(referral_id, TaskKind.FOLLOW_UP, NOW + timedelta(days=1), TaskStatus.OPEN),
            task(contacting, TaskKind.CHOOSE_SERVICE, NOW - timedelta(days=1), TaskStatus.DONE),
            service_referral(referral_id, NOW - timedelta(days=2), ServiceReferralStatus.PENDING),
            service_referral(referral_id, NOW - timedelta(days=9), ServiceReferralStatus.ACCEPTED),
            service_referral(contacting, NOW - timedelta(hours=5), ServiceReferralStatus.PENDING),
        ])  # fmt: skip
        session.commit()


def test_the_counts_take_only_what_is_open_overdue_waiting_or_dead(engine: Engine) -> None:
    fill(engine)

    counts = operational_counts(engine, now=NOW)

    assert counts.open_referrals[ReferralStatus.RECEIVED] == 2
    assert counts.open_referrals[ReferralStatus.CONTACTING] == 1
    assert counts.open_referrals[ReferralStatus.ASSESSED] == 0
    assert ReferralStatus.CLOSED not in counts.open_referrals
    assert counts.overdue_tasks[TaskKind.FIRST_CONTACT] == 2
    assert counts.overdue_tasks[TaskKind.FOLLOW_UP] == 0  # not due yet
    assert counts.overdue_tasks[TaskKind.CHOOSE_SERVICE] == 0  # done
    assert counts.outbox == {OutboxStatus.PENDING: 1, OutboxStatus.DEAD: 1}
    # The accepted one waited longer, but it was answered.
    assert counts.oldest_unanswered_service_referral_seconds == timedelta(days=2).total_seconds()


def test_with_nothing_waiting_the_oldest_unanswered_age_is_zero(engine: Engine) -> None:
    counts = operational_counts(engine, now=NOW)
    assert counts.oldest_unanswered_service_referral_seconds == 0.0
    assert set(counts.open_referrals.values()) == {0}


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


async def scrape(settings: Settings, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://socialrx.test") as http:
        return await http.get("/metrics", headers=headers or {})


async def test_metrics_shows_the_gauges(engine: Engine, settings: Settings) -> None:
    fill(engine)
    response = await scrape(settings)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    open_referrals = samples(response.text, "socialrx_open_referrals")
    assert open_referrals[(("status", "contacting"),)] == 1
    assert samples(response.text, "socialrx_outbox_messages") == {
        (("status", "pending"),): 1,
        (("status", "dead"),): 1,
    }
    # Due times are relative to NOW, long past: at the real time of the scrape all three are
    # overdue.
    overdue = samples(response.text, "socialrx_overdue_tasks")
    assert overdue[(("kind", "first_contact"),)] == 2
    assert overdue[(("kind", "follow_up"),)] == 1
    (oldest,) = samples(
        response.text, "socialrx_oldest_unanswered_service_referral_seconds"
    ).values()
    assert oldest >= (datetime.now(UTC) - NOW + timedelta(days=2)).total_seconds() - 60


async def test_with_a_token_only_a_caller_that_sends_it_is_answered(settings: Settings) -> None:
    guarded = settings.model_copy(update={"metrics": MetricsSettings(token="s3cret-scrape")})
    assert (await scrape(guarded)).status_code == 404
    assert (await scrape(guarded, {"Authorization": "Bearer wrong"})).status_code == 404
    answered = await scrape(guarded, {"Authorization": "Bearer s3cret-scrape"})
    assert answered.status_code == 200
    assert "socialrx_open_referrals" in answered.text


async def test_production_without_a_token_serves_no_metrics(settings: Settings) -> None:
    production = settings.model_copy(update={"env": "production"})
    assert (await scrape(production)).status_code == 404
