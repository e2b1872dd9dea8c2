"""The orphan sweep: referrals left ``received`` with no workflow running.

The API starts a referral's workflow, then commits its rows, so that neither exists without
the other. Two ways round that leave a referral blocked for ever (its open-NHS-number index
is cleared only at closure): the workflow never started, or it ended (terminated, failed,
timed out) before the rows reached closure. A referral still ``received`` after the intake
wait, and then some, has one of those: the workflow would have assigned it by now.

The sweep starts the workflow again when the rows are complete (referral, person and
consent: the workflow's first projection reads them), or closes the referral and clears its
index when they are not. Either way an admin gets a task. Safe to run twice, and by two
workers at once: a workflow id runs once at a time, and tasks are unique per referral.
"""

import asyncio
import logging
from contextlib import suppress
from datetime import timedelta
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.enums import (
    ADMINS,
    REFERRAL_WORKFLOW,
    AssigneeKind,
    ReferralStatus,
    TaskKind,
)
from domain.messages import ReferralInput, workflow_id_for
from domain.policy import ReferralPolicy
from domain.tables import Consent, Person, Referral, Task, utcnow

log = logging.getLogger(__name__)
# Past the intake wait, how long a referral may still be ``received`` before it counts as
# orphaned: a healthy workflow assigns it moments after its rows land.
GRACE = timedelta(minutes=1)
BATCH = 200
RESTARTED = "orphan-sweep:restarted"
CLOSED = "orphan-sweep:closed"


class OrphanSweepResult(BaseModel):
    """What one sweep did: referrals whose workflow it started again, and referrals it closed
    because their rows were incomplete. Ids only."""

    restarted: list[UUID] = []
    closed: list[UUID] = []


class OrphanSweepActivities:
    def __init__(
        self, engine: Engine, client: Client, task_queue: str, policy: ReferralPolicy
    ) -> None:
        self._engine = engine
        self._client = client
        self._task_queue = task_queue
        self._policy = policy

    @activity.defn
    async def sweep_orphans(self) -> OrphanSweepResult:
        result = OrphanSweepResult()
        # Database work in threads: this activity runs on the worker's event loop.
        for referral_id in await asyncio.to_thread(self._candidates):
            if await self._workflow_running(referral_id):
                continue
            if await asyncio.to_thread(self._complete, referral_id):
                await self._restart(referral_id)
                await asyncio.to_thread(self._raise_task, referral_id, RESTARTED)
                result.restarted.append(referral_id)
            else:
                await asyncio.to_thread(self._close, referral_id)
                result.closed.append(referral_id)
        if result.restarted or result.closed:
            log.warning(
                "orphan sweep: restarted %d, closed %d: %s",
                len(result.restarted),
                len(result.closed),
                [str(i) for i in result.restarted + result.closed],
            )
        return result

    def _candidates(self) -> list[UUID]:
        cutoff = utcnow() - self._policy.intake_wait - GRACE
        with Session(self._engine) as session:
            return list(
                session.exec(
                    select(Referral.id)
                    .where(Referral.status == ReferralStatus.RECEIVED)
                    .where(col(Referral.created_at) < cutoff)
                    .order_by(col(Referral.created_at))
                    .limit(BATCH)
                ).all()
            )

    async def _workflow_running(self, referral_id: UUID) -> bool:
        handle = self._client.get_workflow_handle(workflow_id_for(referral_id))
        try:
            described = await handle.describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return False
            raise  # Temporal unreachable: the activity retries, and nothing was changed
        return described.status == WorkflowExecutionStatus.RUNNING

    def _complete(self, referral_id: UUID) -> bool:
        with Session(self._engine) as session:
            return (
                session.get(Person, referral_id) is not None
                and session.get(Consent, referral_id) is not None
            )

    async def _restart(self, referral_id: UUID) -> None:
        with Session(self._engine) as session:
            referral = session.get(Referral, referral_id)
            assert referral is not None
            start = ReferralInput(
                referral_id=referral_id,
                practice_ods=referral.practice_ods,
                need_codes=referral.need_codes,
                policy=self._policy,
            )
        # Another sweep may have started it just now: then that run is the one.
        with suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                REFERRAL_WORKFLOW,
                start,
                id=workflow_id_for(referral_id),
                task_queue=self._task_queue,
                # Its earlier run, if any, has ended; a running one is never started twice.
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )

    def _close(self, referral_id: UUID) -> None:
        with Session(self._engine) as session:
            referral = session.get(Referral, referral_id)
            if referral is None or referral.status != ReferralStatus.RECEIVED:
                return
            referral.status = ReferralStatus.CLOSED
            referral.closed_at = referral.updated_at = utcnow()
            session.add(referral)
            person = session.get(Person, referral_id)
            if person is not None:
                person.open_nhs_number = None  # the person may be referred again
                session.add(person)
            _add_task(session, referral_id, CLOSED)
            session.commit()

    def _raise_task(self, referral_id: UUID, step_key: str) -> None:
        with Session(self._engine) as session:
            _add_task(session, referral_id, step_key)
            session.commit()


def _add_task(session: Session, referral_id: UUID, step_key: str) -> None:
    """An admin task saying what the sweep did, once per referral and what it did."""
    exists = session.exec(
        select(Task.id)
        .where(Task.referral_id == referral_id)
        .where(Task.step_key == step_key)
        .where(Task.kind == TaskKind.ORPHANED_REFERRAL)
    ).first()
    if exists is None:
        session.add(
            Task(
                referral_id=referral_id,
                step_key=step_key,
                kind=TaskKind.ORPHANED_REFERRAL,
                assignee_kind=AssigneeKind.ADMIN,
                assignee_id=ADMINS,
            )
        )
