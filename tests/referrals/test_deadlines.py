"""Deadlines: overdue first contact, a silent organisation, a declining organisation, one missed
follow-up, and both follow-ups missed."""

from datetime import datetime, timedelta
from uuid import UUID

from domain.policy import ReferralPolicy
from tests.support.driver import SWEMWBS_LATER, Driver


def tasks_of(driver: Driver, referral_id: UUID, kind: str) -> list[tuple[str, str, str]]:
    return [
        (t.assignee_kind, t.assignee_id, t.status)
        for t in driver.tasks(referral_id)
        if t.kind == kind
    ]


async def skip_until(driver: Driver, moment: datetime) -> None:
    await driver.skip(moment - await driver.env.get_current_time())


async def test_overdue_first_contact_reminds_the_worker_then_escalates_to_the_lead(
    driver: Driver,
) -> None:
    referral_id = await driver.submit()
    detail = await driver.detail(referral_id)
    worker = detail["link_worker_id"]
    due = datetime.fromisoformat(detail["state"]["first_contact_due_at"])
    assert due.weekday() < 5, "first contact falls due on a working day"

    await skip_until(driver, due - timedelta(hours=1))
    assert tasks_of(driver, referral_id, "first_contact_reminder") == []
    await skip_until(driver, due + timedelta(minutes=1))
    await driver.wait_for_task(referral_id, "first_contact_reminder")
    assert tasks_of(driver, referral_id, "first_contact_reminder") == [
        ("link_worker", worker, "open")
    ]

    escalate_at = ReferralPolicy().escalation_deadline(due)
    await skip_until(driver, escalate_at - timedelta(hours=1))
    assert tasks_of(driver, referral_id, "first_contact_escalation") == []
    await skip_until(driver, escalate_at + timedelta(minutes=1))
    await driver.wait_for_task(referral_id, "first_contact_escalation")
    assert tasks_of(driver, referral_id, "first_contact_escalation") == [
        ("team_lead", "lw-carys", "open")
    ]
    lead_tasks = await driver.http.get(
        "/link-workers/lw-carys/tasks", headers=await driver.headers_for("link_worker:lw-carys")
    )
    assert "first_contact_escalation" in [t["kind"] for t in lead_tasks.json()]

    await driver.contact(referral_id, reached=True)
    for kind in ("first_contact", "first_contact_reminder", "first_contact_escalation"):
        assert [status for *_, status in tasks_of(driver, referral_id, kind)] == ["done"]


async def test_prompt_first_contact_raises_no_reminder(driver: Driver) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id, reached=False)
    await driver.skip(timedelta(days=12))
    assert tasks_of(driver, referral_id, "first_contact_reminder") == []
    assert tasks_of(driver, referral_id, "first_contact_escalation") == []


async def connected(driver: Driver, *service_ids: str) -> tuple[UUID, list[str]]:
    referral_id = await driver.submit()
    await driver.contact(referral_id)
    await driver.assess(referral_id)
    return referral_id, await driver.connect(referral_id, *service_ids)


async def test_silent_organisation_is_reminded_then_auto_declined_and_another_accepts(
    driver: Driver,
) -> None:
    referral_id, (walks,) = await connected(driver, "svc-health-walks")
    await driver.skip(timedelta(days=7, hours=1))
    await driver.wait_for_task(referral_id, "response_reminder")
    assert [m.kind for m in driver.outbox(referral_id)][-1] == "organisation_reminder"

    await driver.skip(timedelta(days=7))
    await driver.wait_for_task(referral_id, "choose_service", status="open")
    detail = await driver.detail(referral_id)
    assert [s["status"] for s in detail["service_referrals"]] == ["auto_declined"]
    assert [m.kind for m in driver.outbox(referral_id)][-2:] == [
        "organisation_auto_declined",
        "link_worker_organisation_declined",
    ]
    assert [status for *_, status in tasks_of(driver, referral_id, "respond_to_referral")] == [
        "cancelled"
    ]
    # Too late: the organisation can no longer answer the auto-declined referral.
    await driver.respond(walks, "org-millbrook-leisure-trust", accepted=True, expect=409)

    (pottery,) = await driver.connect(referral_id, "svc-pottery-for-beginners")
    state = await driver.respond(pottery, "org-canal-side-studios", accepted=True)
    # The organisation's answer names its own service referral only; the link worker sees both.
    assert [(s["id"], s["status"]) for s in state["service_referrals"]] == [(pottery, "accepted")]
    detail = await driver.detail(referral_id)
    statuses = {s["service_id"]: s["status"] for s in detail["service_referrals"]}
    assert statuses == {
        "svc-health-walks": "auto_declined",
        "svc-pottery-for-beginners": "accepted",
    }
    state = await driver.uptake(pottery, "org-canal-side-studios", started=True)
    assert state["status"] == "engaged"


async def test_organisation_declines_and_the_link_worker_chooses_again(driver: Driver) -> None:
    referral_id, (walks,) = await connected(driver, "svc-health-walks")
    state = await driver.respond(walks, "org-millbrook-leisure-trust", accepted=False)
    assert [s["status"] for s in state["service_referrals"]] == ["declined"]
    assert state["status"] == "connecting"
    choose = tasks_of(driver, referral_id, "choose_service")
    assert choose[-1][2] == "open"
    # The decline arrived before any deadline, so no reminder goes out later.
    await driver.skip(timedelta(days=15))
    assert tasks_of(driver, referral_id, "response_reminder") == []


async def test_organisation_reports_did_not_attend(driver: Driver) -> None:
    referral_id, (walks,) = await connected(driver, "svc-health-walks")
    await driver.respond(walks, "org-millbrook-leisure-trust")
    state = await driver.uptake(walks, "org-millbrook-leisure-trust", started=False)
    assert [s["status"] for s in state["service_referrals"]] == ["did_not_attend"]
    assert state["status"] == "connecting"
    assert tasks_of(driver, referral_id, "choose_service")[-1][2] == "open"


async def engaged(driver: Driver) -> UUID:
    referral_id, (walks,) = await connected(driver, "svc-health-walks")
    await driver.respond(walks, "org-millbrook-leisure-trust")
    await driver.uptake(walks, "org-millbrook-leisure-trust")
    return referral_id


async def test_one_missed_follow_up_still_completes(driver: Driver) -> None:
    referral_id = await engaged(driver)
    await driver.skip(timedelta(weeks=15, hours=1))  # checkpoint 1 opened and closed unrecorded
    await driver.wait_for_task(referral_id, "follow_up", status="cancelled")
    await driver.skip(timedelta(weeks=2))
    await driver.follow_up(referral_id, 2)

    final = await driver.wait_closed(referral_id)
    assert final["closure_reason"] == "completed"
    assert [c["status"] for c in final["checkpoints"]] == ["missed", "recorded"]
    measures = driver.outbox(referral_id)[-1].payload["measures"]
    assert measures["follow_up_1"] == {"missed": True, "measures": []}
    assert measures["follow_up_2"]["missed"] is False


async def test_both_follow_ups_missed_is_lost_to_follow_up(driver: Driver) -> None:
    referral_id = await engaged(driver)
    await driver.skip(timedelta(weeks=15, hours=1))
    await driver.wait_for_task(referral_id, "follow_up", status="cancelled")
    await driver.skip(timedelta(weeks=4))
    final = await driver.wait_closed(referral_id)
    assert final["closure_reason"] == "lost_to_follow_up"
    assert [c["status"] for c in final["checkpoints"]] == ["missed", "missed"]
    gp_message = driver.outbox(referral_id)[-1].payload
    assert gp_message["closure_reason"] == "lost_to_follow_up"
    assert [s["service_id"] for s in gp_message["services_taken_up"]] == ["svc-health-walks"]


async def test_follow_up_cannot_be_recorded_before_its_checkpoint_opens(driver: Driver) -> None:
    referral_id = await engaged(driver)
    response = await driver.http.post(
        f"/referrals/{referral_id}/follow-ups/1",
        json={"measures": [SWEMWBS_LATER]},
        headers=await driver.headers_for("link_worker:lw-amira"),
    )
    assert response.status_code == 409
    assert "opens at" in response.json()["detail"]
