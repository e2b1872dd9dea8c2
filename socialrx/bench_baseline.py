"""The baseline of ``socialrx bench lifecycle``: a referral's shape with no logic and no DB.

It takes the same Temporal steps as a referral on the happy path — the same local activities
(one ``apply_projection`` per step plus ``assign_link_worker`` and ``suggest_services``), the
same updates, and the
same timers, fired or cancelled alike — but its activities do nothing and its handlers decide
nothing. Referral throughput over baseline throughput is then what our own code costs.

It lives in a module of its own because the workflow sandbox re-imports a workflow's module:
this one imports nothing but temporalio and the policy.
"""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from domain.policy import ReferralPolicy

BASELINE_WORKFLOW = "LifecycleBaseline"
# The same names as the referral's local activities, so both histories read alike.
PROJECT = "apply_projection"
ASSIGN = "assign_link_worker"
SUGGEST = "suggest_services"
STEP_TIMEOUT = timedelta(seconds=30)
# A step's request body, carried and ignored: `bench load` sends each update the same JSON as
# the API's step, so the bare round trip moves the same payload; the lifecycle sends none.
StepBody = dict[str, Any] | None


@activity.defn(name=PROJECT)
def project_nothing(step: str) -> None:
    """Stands in for writing a step to the read model."""


@activity.defn(name=ASSIGN)
def assign_nobody(step: str) -> str:
    """Stands in for choosing a link worker."""
    return "nobody"


@activity.defn(name=SUGGEST)
def suggest_nothing(step: str) -> list[str]:
    """Stands in for matching services to the recorded needs."""
    return []


@workflow.defn(name=BASELINE_WORKFLOW)
class BaselineWorkflow:
    @workflow.init
    def __init__(self, policy: ReferralPolicy) -> None:
        self._policy = policy
        self._contacted = False
        self._answered = False
        self._uptake_at: datetime | None = None
        self._opened = 0
        self._recorded = 0
        self._waiting: list[asyncio.Task[None]] = []

    @workflow.run
    async def run(self, policy: ReferralPolicy) -> None:
        await self._step("received")
        await workflow.execute_local_activity(
            assign_nobody, "assign", start_to_close_timeout=STEP_TIMEOUT
        )
        await self._step("assigned")
        # The first-contact deadline: a timer that the contact attempt cancels.
        self._background(lambda: self._contacted, policy.first_contact_due)
        await workflow.wait_condition(lambda: self._uptake_at is not None)
        for number, offset in enumerate(policy.follow_up_checkpoints, start=1):
            assert self._uptake_at is not None
            await workflow.sleep(self._uptake_at + offset - workflow.now())
            self._opened = number
            await self._step("checkpoint_opened")
            # The checkpoint's window: a timer that recording the follow-up cancels.
            await self._wait(self._recorded_up_to(number), policy.follow_up_window)
        await self._step("closed")
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update
    async def record_contact_attempt(self, body: StepBody = None) -> None:
        self._contacted = True
        await self._step("contact_attempted")

    @workflow.update
    async def record_assessment(self, body: StepBody = None) -> None:
        await workflow.execute_local_activity(
            suggest_nothing, "suggest", start_to_close_timeout=STEP_TIMEOUT
        )
        await self._step("assessed")

    @workflow.update
    async def connect_services(self, body: StepBody = None) -> None:
        # The organisation's reminder: a timer that its answer cancels.
        self._background(lambda: self._answered, self._policy.organisation_reminder_after)
        await self._step("connected")

    @workflow.update
    async def respond_to_referral(self, body: StepBody = None) -> None:
        self._answered = True
        await self._step("organisation_accepted")

    @workflow.update
    async def confirm_uptake(self, body: StepBody = None) -> list[datetime]:
        self._uptake_at = workflow.now()
        await self._step("uptake_confirmed")
        return [self._uptake_at + offset for offset in self._policy.follow_up_checkpoints]

    @workflow.update
    async def record_follow_up(self, checkpoint: int) -> None:
        await workflow.wait_condition(lambda: self._opened >= checkpoint)
        self._recorded = checkpoint
        await self._step("follow_up_recorded")

    async def _step(self, name: str) -> None:
        await workflow.execute_local_activity(
            project_nothing, name, start_to_close_timeout=STEP_TIMEOUT
        )

    def _recorded_up_to(self, checkpoint: int) -> Callable[[], bool]:
        return lambda: self._recorded >= checkpoint

    def _background(self, done: Callable[[], bool], timeout: timedelta) -> None:
        self._waiting.append(asyncio.create_task(self._wait(done, timeout)))

    @staticmethod
    async def _wait(done: Callable[[], bool], timeout: timedelta) -> None:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(done, timeout=timeout)
