"""A worker stopped mid-referral, and activities run twice, change nothing for the person."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlmodel import Session, func, select

from activities.read_model import ReadModelActivities
from domain.enums import MessageKind, ProjectionAction, RecipientKind, ReferralStatus, TaskKind
from domain.messages import SYSTEM, MeasureAnswers, MessageSpec, OutcomeSpec, Projection, TaskSpec
from domain.tables import AuditEvent, OutboxMessage, OutcomeRecord, Task
from tests.support.driver import Driver


async def test_referral_completes_across_worker_restarts(driver: Driver) -> None:
    referral_id = await driver.submit()
    await driver.contact(referral_id)
    await driver.restart_worker()
    await driver.assess(referral_id)
    (walks,) = await driver.connect(referral_id, "svc-health-walks")
    await driver.respond(walks, "org-millbrook-leisure-trust")
    await driver.uptake(walks, "org-millbrook-leisure-trust")
    await driver.restart_worker()

    await driver.skip(timedelta(weeks=13, hours=1))
    await driver.wait_for_status(referral_id, "follow_up")
    await driver.follow_up(referral_id, 1)
    await driver.restart_worker()
    await driver.skip(timedelta(weeks=4))
    await driver.follow_up(referral_id, 2)
    final = await driver.wait_closed(referral_id)
    assert final["closure_reason"] == "completed"
    actions = [e["action"] for e in (await driver.detail(referral_id))["timeline"]]
    assert actions.count("checkpoint_opened") == 2
    assert actions.count("closed") == 1


async def test_timers_that_fire_while_no_worker_runs_are_handled_by_the_next(
    dev_driver: Driver,
) -> None:
    """On the real dev server: the worker is down while both checkpoints open and close."""
    referral_id = await dev_driver.submit()
    await dev_driver.contact(referral_id)
    await dev_driver.assess(referral_id)
    (walks,) = await dev_driver.connect(referral_id, "svc-health-walks")
    await dev_driver.respond(walks, "org-millbrook-leisure-trust")
    await dev_driver.uptake(walks, "org-millbrook-leisure-trust")

    await dev_driver.stop_worker()
    await asyncio.sleep(6)  # both checkpoints (2 s and 4 s, 1 s windows) pass unseen
    await dev_driver.start_worker()

    final = await dev_driver.wait_closed(referral_id)
    assert final["closure_reason"] == "lost_to_follow_up"
    assert [c["status"] for c in final["checkpoints"]] == ["missed", "missed"]
    assert [m.kind for m in dev_driver.outbox(referral_id)][-1] == "gp_outcome"


async def test_a_step_applied_twice_writes_once(driver: Driver) -> None:
    referral_id = await driver.submit()
    projection = Projection(
        referral_id=referral_id,
        step_key="900-test_step",
        at=datetime.now(UTC),
        actor=SYSTEM,
        action=ProjectionAction.ASSIGNED,
        status=ReferralStatus.ASSIGNED,
        link_worker_id="lw-amira",
        open_tasks=[
            TaskSpec(
                kind=TaskKind.FIRST_CONTACT, assignee_kind="link_worker", assignee_id="lw-amira"
            )
        ],
        outcomes=[
            OutcomeSpec(
                checkpoint="baseline",
                measures=[MeasureAnswers(instrument="ucla3", answers={"companionship": 2})],
            )
        ],
        messages=[
            MessageSpec(
                kind=MessageKind.GP_ACKNOWLEDGEMENT,
                recipient_kind=RecipientKind.PRACTICE,
                recipient_id="A81001",
            )
        ],
    )
    activities = ReadModelActivities(driver.engine)

    def counts() -> list[int]:
        with Session(driver.engine) as session:
            return [
                session.exec(
                    select(func.count()).select_from(table).where(table.referral_id == referral_id)
                ).one()
                for table in (Task, AuditEvent, OutboxMessage, OutcomeRecord)
            ]

    before = counts()
    activities.apply_projection(projection)
    once = counts()
    activities.apply_projection(projection)
    assert counts() == once
    assert [b + 1 for b in before] == once


async def test_assignment_picks_the_least_loaded_worker(driver: Driver) -> None:
    first = await driver.submit()
    second = await driver.submit()
    third = await driver.submit()
    workers = [(await driver.detail(r))["link_worker_id"] for r in (first, second, third)]
    assert sorted(workers) == ["lw-amira", "lw-ben", "lw-carys"]
    unused = uuid4()
    assert unused not in driver.submitted
