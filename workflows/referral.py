"""ReferralWorkflow: one referral, from the GP's request to the message back to the GP.

Every deadline is a durable timer; every human step is an update whose validator (in
``workflows.rules``) rejects an illegal step before anything is written. Each step is
projected into the read model by one idempotent local activity, serialised by a lock so
the read model sees steps in the order the workflow took them.
"""

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    # ``import a.b as c``, not ``from a import b``: the latter loads ``rules`` through the
    # sandbox's own ``workflows`` package, which re-executes it for every new workflow run
    # instead of passing the stateless module through like ``domain``.
    import workflows.rules as rules

    # Only so that each call names its activity by reference: the workflow never runs them
    # itself, and passing them through keeps the sandbox from re-importing SQLAlchemy for
    # every workflow run.
    from activities.matching import MatchingActivities
    from activities.read_model import ReadModelActivities
    from domain.enums import (
        INTAKE_NOT_COMMITTED,
        REFERRAL_STATE_QUERY,
        REFERRAL_WORKFLOW,
        AssigneeKind,
        CheckpointStatus,
        ClosureReason,
        ContactMethod,
        MessageKind,
        ProjectionAction,
        RecipientKind,
        ReferralStatus,
        ServiceReferralStatus,
        TaskKind,
        TaskStatus,
    )
    from domain.messages import (
        SYSTEM,
        Actor,
        Assessment,
        Assignment,
        AssignmentRequest,
        CheckpointState,
        Closure,
        Connection,
        ContactAttempt,
        ContactAttemptRecord,
        FollowUpRecord,
        MessageSpec,
        OrganisationResponse,
        OutcomeSpec,
        Projection,
        Reassignment,
        ReferralInput,
        ReferralState,
        ServiceReferralState,
        SuggestionRequest,
        TaskClosure,
        TaskSpec,
        UptakeConfirmation,
    )

STEP_TIMEOUT = timedelta(seconds=30)
STEP_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
# The API commits a new referral's rows moments after starting its workflow: look again soon.
INTAKE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(seconds=2)
)
FIRST_CONTACT_TASKS = (
    TaskKind.FIRST_CONTACT,
    TaskKind.FIRST_CONTACT_REMINDER,
    TaskKind.FIRST_CONTACT_ESCALATION,
)
# Patches: each names a change of command sequence; histories recorded before it replay
# without it.
SUGGEST_SERVICES = "suggest-services"
CONTACT_ATTEMPT_SPAN = "contact-attempt-span"
LINK_WORKER_AND_PERSON_MESSAGES = "link-worker-and-person-messages"
# One marker, written by the first workflow task, stands for all three above in a workflow
# started since. Asking for a patch first after a local activity is not safe: when the SDK
# answers a query while that activity's result waits, it records the result's marker one
# workflow task before the code that follows it, so replay resolves the activity early, finds
# no patch marker yet in that task's look-ahead, and takes the old branch; the marker it then
# meets is a nondeterminism error (about 1 history in 10 under steady queries; see
# tests/referrals/test_patches_under_queries.py). Asked in ``__init__``, the marker is always
# the first workflow task's first command. Histories recorded before it ask the old way.
PATCHES_DECIDED_AT_START = "patches-decided-at-start"


@workflow.defn(name=REFERRAL_WORKFLOW)
class ReferralWorkflow:
    @workflow.init
    def __init__(self, referral: ReferralInput) -> None:
        self._referral = referral
        self._policy = referral.policy
        self._state = ReferralState(
            referral_id=referral.referral_id, need_codes=list(referral.need_codes)
        )
        self._steps_taken = 0
        self._contact_retry_open = False
        self._patched_at_start = workflow.patched(PATCHES_DECIDED_AT_START)
        self._projection_lock = asyncio.Lock()
        self._background: list[asyncio.Task[None]] = []

    # --- the process --------------------------------------------------------------------

    @workflow.run
    async def run(self, referral: ReferralInput) -> ReferralState:
        try:
            await self._project(
                ProjectionAction.RECEIVED,
                SYSTEM,
                messages=[self._to_practice(MessageKind.GP_ACKNOWLEDGEMENT)],
                rows_due_by=workflow.now() + self._policy.intake_wait,
            )
        except (ActivityError, ApplicationError) as error:
            # The API starts this workflow before it commits the referral's rows, so that
            # neither exists without the other; if the rows never came, there is no referral.
            # (A local activity's failure may arrive as its own error, not wrapped.)
            cause = error.cause if isinstance(error, ActivityError) else error
            if not (isinstance(cause, ApplicationError) and cause.type == INTAKE_NOT_COMMITTED):
                raise
            workflow.logger.warning("referral rows never committed; ending without a referral")
            return self._state
        assignment = await workflow.execute_local_activity_method(
            ReadModelActivities.assign_link_worker,
            AssignmentRequest(referral_id=referral.referral_id, practice_ods=referral.practice_ods),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        if not self._closed:
            await self._assign(assignment)
            await self._until_contact_resolved()
        await workflow.wait_condition(
            lambda: self._closed or self._state.first_uptake_at is not None
        )
        if not self._closed:
            await self._follow_up()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _assign(self, assignment: Assignment) -> None:
        self._state.link_worker_id = assignment.link_worker_id
        self._state.team_lead_id = assignment.team_lead_id
        self._state.status = ReferralStatus.ASSIGNED
        due = self._policy.first_contact_deadline(workflow.now())
        self._state.first_contact_due_at = due
        self._start(self._watch_first_contact(due))
        await self._project(
            ProjectionAction.ASSIGNED,
            SYSTEM,
            open_tasks=[self._for_link_worker(TaskKind.FIRST_CONTACT, due)],
            messages=self._new_messages(
                self._to_link_worker(MessageKind.LINK_WORKER_ASSIGNED),
                self._to_person(MessageKind.PERSON_LINK_WORKER_WILL_CONTACT),
            ),
        )

    async def _watch_first_contact(self, due: datetime) -> None:
        def attempted() -> bool:
            return self._closed or bool(self._state.contact_attempts)

        if await self._wait_until(attempted, due):
            return
        await self._project(
            ProjectionAction.FIRST_CONTACT_OVERDUE,
            SYSTEM,
            open_tasks=[self._for_link_worker(TaskKind.FIRST_CONTACT_REMINDER, due)],
        )
        escalate_at = self._policy.escalation_deadline(workflow.now())
        if await self._wait_until(attempted, escalate_at):
            return
        lead = self._state.team_lead_id or self._state.link_worker_id or ""
        await self._project(
            ProjectionAction.FIRST_CONTACT_ESCALATED,
            SYSTEM,
            open_tasks=[
                TaskSpec(
                    kind=TaskKind.FIRST_CONTACT_ESCALATION,
                    assignee_kind=AssigneeKind.TEAM_LEAD,
                    assignee_id=lead,
                    due_at=workflow.now(),
                )
            ],
            messages=self._new_messages(
                MessageSpec(
                    kind=MessageKind.LINK_WORKER_ESCALATION,
                    recipient_kind=RecipientKind.LINK_WORKER,
                    recipient_id=lead,
                )
            ),
        )

    async def _until_contact_resolved(self) -> None:
        """Wait for the person to be reached, or give up once failed attempts allow it.

        Enough failed attempts bunched together leave the referral open: when they could
        have spanned the minimum period, the link worker is asked to try again, and a failed
        attempt then closes it. (Before ``CONTACT_ATTEMPT_SPAN``, that moment closed it.)
        """
        while not (self._closed or rules.contact_made(self._state)):
            attempts_seen = len(self._state.contact_attempts)

            def changed(seen: int = attempts_seen) -> bool:
                return self._closed or len(self._state.contact_attempts) != seen

            span_met_at = self._span_met_at()
            if span_met_at is None:
                await workflow.wait_condition(changed)
            elif not await self._wait_until(changed, span_met_at):
                if self._attempts_must_span() and not self._failed_attempts_span():
                    await self._ask_to_try_contact_again()
                    await workflow.wait_condition(changed)
                else:
                    await self._close(ClosureReason.UNABLE_TO_CONTACT, SYSTEM)

    def _failed_attempts(self) -> list[ContactAttemptRecord]:
        return [a for a in self._state.contact_attempts if not a.reached]

    def _span_met_at(self) -> datetime | None:
        """When enough failed attempts would span the minimum period, if there are enough."""
        failed = self._failed_attempts()
        if len(failed) < self._policy.contact_attempts_before_giving_up:
            return None
        return failed[0].at + self._policy.contact_attempts_min_span

    def _failed_attempts_span(self) -> bool:
        """Enough failed attempts, the first and the last the minimum period apart."""
        failed = self._failed_attempts()
        return (
            len(failed) >= self._policy.contact_attempts_before_giving_up
            and failed[-1].at - failed[0].at >= self._policy.contact_attempts_min_span
        )

    def _attempts_must_span(self) -> bool:
        return self._patched_at_start or workflow.patched(CONTACT_ATTEMPT_SPAN)

    async def _ask_to_try_contact_again(self) -> None:
        self._contact_retry_open = True
        await self._project(
            ProjectionAction.CONTACT_RETRY_DUE,
            SYSTEM,
            open_tasks=[self._for_link_worker(TaskKind.CONTACT_RETRY, workflow.now())],
        )

    async def _await_organisation(self, service_referral: ServiceReferralState) -> None:
        def answered() -> bool:
            return self._closed or service_referral.status != ServiceReferralStatus.PENDING

        subject = str(service_referral.id)
        remind_at = service_referral.sent_at + self._policy.organisation_reminder_after
        if await self._wait_until(answered, remind_at):
            return
        await self._project(
            ProjectionAction.ORGANISATION_REMINDED,
            SYSTEM,
            open_tasks=[self._for_organisation(TaskKind.RESPONSE_REMINDER, service_referral)],
            messages=[self._to_organisation(MessageKind.ORGANISATION_REMINDER, service_referral)],
            service_referral_id=service_referral.id,
        )
        if await self._wait_until(answered, service_referral.respond_by):
            return
        service_referral.status = ServiceReferralStatus.AUTO_DECLINED
        service_referral.responded_at = workflow.now()
        await self._project(
            ProjectionAction.ORGANISATION_AUTO_DECLINED,
            SYSTEM,
            service_referrals=[service_referral],
            close_tasks=self._organisation_response_tasks(subject, TaskStatus.CANCELLED),
            open_tasks=[self._for_link_worker(TaskKind.CHOOSE_SERVICE, subject=subject)],
            messages=[
                self._to_organisation(MessageKind.ORGANISATION_AUTO_DECLINED, service_referral),
                *self._new_messages(
                    self._to_link_worker(
                        MessageKind.LINK_WORKER_ORGANISATION_DECLINED, subject=subject
                    )
                ),
            ],
            service_referral_id=service_referral.id,
        )

    async def _follow_up(self) -> None:
        for checkpoint in self._state.checkpoints:
            if await self._wait_until(lambda: self._closed, checkpoint.opens_at):
                return
            checkpoint.status = CheckpointStatus.OPEN
            self._state.status = ReferralStatus.FOLLOW_UP
            subject = f"checkpoint-{checkpoint.number}"
            await self._project(
                ProjectionAction.CHECKPOINT_OPENED,
                SYSTEM,
                open_tasks=[
                    self._for_link_worker(TaskKind.FOLLOW_UP, checkpoint.closes_at, subject)
                ],
                messages=self._new_messages(
                    self._to_link_worker(MessageKind.LINK_WORKER_CHECKPOINT_OPEN, subject=subject)
                ),
                checkpoint=checkpoint.number,
            )

            def settled(checkpoint: CheckpointState = checkpoint) -> bool:
                return self._closed or checkpoint.status != CheckpointStatus.OPEN

            if not await self._wait_until(settled, checkpoint.closes_at):
                checkpoint.status = CheckpointStatus.MISSED
                await self._project(
                    ProjectionAction.CHECKPOINT_MISSED,
                    SYSTEM,
                    close_tasks=[
                        TaskClosure(
                            kind=TaskKind.FOLLOW_UP, subject_id=subject, status=TaskStatus.CANCELLED
                        )
                    ],
                    outcomes=[
                        OutcomeSpec(checkpoint=f"follow_up_{checkpoint.number}", missed=True)
                    ],
                    checkpoint=checkpoint.number,
                )
            if self._closed:
                return
        all_missed = all(c.status == CheckpointStatus.MISSED for c in self._state.checkpoints)
        reason = ClosureReason.LOST_TO_FOLLOW_UP if all_missed else ClosureReason.COMPLETED
        await self._close(reason, SYSTEM)

    async def _close(
        self, reason: ClosureReason, actor: Actor, note_ids: list[int] | None = None
    ) -> None:
        if self._closed:
            return
        self._state.status = ReferralStatus.CLOSED
        self._state.closure_reason = reason
        notices: list[MessageSpec] = []
        withdrawn: list[ServiceReferralState] = []
        if reason in (ClosureReason.CONSENT_WITHDRAWN, ClosureReason.CANCELLED_BY_REFERRER):
            # A service the person already started stays "started": that is what happened.
            for service_referral in self._state.service_referrals:
                if service_referral.status in rules.LIVE_SERVICE_REFERRAL:
                    if service_referral.status != ServiceReferralStatus.STARTED:
                        service_referral.status = ServiceReferralStatus.WITHDRAWN
                        withdrawn.append(service_referral)
                    notices.append(
                        self._to_organisation(MessageKind.ORGANISATION_WITHDRAWN, service_referral)
                    )
        await self._project(
            ProjectionAction.CLOSED,
            actor,
            cancel_open_tasks=True,
            service_referrals=withdrawn,
            messages=[self._to_practice(MessageKind.GP_OUTCOME), *notices],
            note_ids=note_ids,
            person_accepted=self._state.assessed,
        )

    # --- human steps ----------------------------------------------------------------------
    # Each update is named after its method (``ReferralUpdate`` spells the same names), so
    # callers can send it by reference, typed: ``execute_update(ReferralWorkflow.close, ...)``.

    @workflow.update
    async def reassign(self, step: Reassignment) -> ReferralState:
        previous = self._state.link_worker_id
        self._state.link_worker_id = step.link_worker_id
        await self._project(
            ProjectionAction.REASSIGNED,
            step.actor,
            previous_link_worker_id=previous,
            messages=self._new_messages(self._to_link_worker(MessageKind.LINK_WORKER_ASSIGNED)),
        )
        return self._state

    @reassign.validator
    def _validate_reassign(self, step: Reassignment) -> None:
        rules.check_reassignment(self._state, step)

    @workflow.update
    async def record_contact_attempt(self, step: ContactAttempt) -> ReferralState:
        first_attempt = not self._state.contact_attempts
        self._state.contact_attempts.append(
            ContactAttemptRecord(at=workflow.now(), method=step.method, reached=step.reached)
        )
        self._state.status = ReferralStatus.CONTACTING
        close = [TaskClosure(kind=kind) for kind in FIRST_CONTACT_TASKS] if first_attempt else []
        if self._contact_retry_open:
            self._contact_retry_open = False
            close.append(TaskClosure(kind=TaskKind.CONTACT_RETRY))
        opened = [self._for_link_worker(TaskKind.WHAT_MATTERS_CONVERSATION)] if step.reached else []
        await self._project(
            ProjectionAction.CONTACT_ATTEMPTED,
            step.actor,
            close_tasks=close,
            open_tasks=opened,
            note_ids=step.note_ids,
            contact_method=step.method,
            reached=step.reached,
        )
        if self._attempts_must_span():
            give_up = not step.reached and self._failed_attempts_span()
        else:
            span_met_at = self._span_met_at()
            give_up = span_met_at is not None and workflow.now() >= span_met_at
        if give_up:
            await self._close(ClosureReason.UNABLE_TO_CONTACT, SYSTEM)
        return self._state

    @record_contact_attempt.validator
    def _validate_contact_attempt(self, step: ContactAttempt) -> None:
        rules.check_contact_attempt(self._state, step)

    @workflow.update
    async def record_assessment(self, step: Assessment) -> ReferralState:
        self._state.assessed = True
        self._state.need_codes = list(step.need_codes)
        self._state.status = ReferralStatus.ASSESSED
        await self._suggest_services()
        await self._project(
            ProjectionAction.ASSESSED,
            step.actor,
            need_codes=self._state.need_codes,
            close_tasks=[TaskClosure(kind=TaskKind.WHAT_MATTERS_CONVERSATION)],
            open_tasks=[self._for_link_worker(TaskKind.CHOOSE_SERVICE)],
            outcomes=[OutcomeSpec(checkpoint="baseline", measures=step.baseline)],
            note_ids=step.note_ids,
            suggested_service_ids=self._state.suggested_service_ids,
        )
        return self._state

    @record_assessment.validator
    def _validate_assessment(self, step: Assessment) -> None:
        rules.check_assessment(self._state, step)

    @workflow.update
    async def connect_services(self, step: Connection) -> ReferralState:
        now = workflow.now()
        sent = [
            ServiceReferralState(
                id=workflow.uuid4(),
                service_id=choice.service_id,
                organisation_id=choice.organisation_id,
                status=ServiceReferralStatus.PENDING,
                sent_at=now,
                respond_by=now + self._policy.organisation_response_due,
            )
            for choice in step.choices
        ]
        self._state.service_referrals.extend(sent)
        if self._state.first_uptake_at is None:
            self._state.status = ReferralStatus.CONNECTING
        for service_referral in sent:
            self._start(self._await_organisation(service_referral))
        await self._project(
            ProjectionAction.CONNECTED,
            step.actor,
            service_referrals=sent,
            close_tasks=[TaskClosure(kind=TaskKind.CHOOSE_SERVICE)],
            open_tasks=[self._for_organisation(TaskKind.RESPOND_TO_REFERRAL, s) for s in sent],
            messages=[self._to_organisation(MessageKind.ORGANISATION_REFERRAL, s) for s in sent],
            chosen_service_ids=[s.service_id for s in sent],
            suggested_service_ids=self._state.suggested_service_ids,
        )
        return self._state

    @connect_services.validator
    def _validate_connection(self, step: Connection) -> None:
        rules.check_connection(self._state, step)

    @workflow.update
    async def respond_to_referral(self, step: OrganisationResponse) -> ReferralState:
        service_referral = self._service_referral(step.service_referral_id)
        service_referral.responded_at = workflow.now()
        subject = str(service_referral.id)
        if step.accepted:
            service_referral.status = ServiceReferralStatus.ACCEPTED
            follow_on = self._for_organisation(TaskKind.CONFIRM_UPTAKE, service_referral)
        else:
            service_referral.status = ServiceReferralStatus.DECLINED
            follow_on = self._for_link_worker(TaskKind.CHOOSE_SERVICE, subject=subject)
        await self._project(
            ProjectionAction.ORGANISATION_ACCEPTED
            if step.accepted
            else ProjectionAction.ORGANISATION_DECLINED,
            step.actor,
            service_referrals=[service_referral],
            close_tasks=self._organisation_response_tasks(subject, TaskStatus.DONE),
            open_tasks=[follow_on],
            messages=[]
            if step.accepted
            else self._new_messages(
                self._to_link_worker(MessageKind.LINK_WORKER_ORGANISATION_DECLINED, subject=subject)
            ),
            service_referral_id=service_referral.id,
            reason_code=step.reason_code,
        )
        return self._state

    @respond_to_referral.validator
    def _validate_response(self, step: OrganisationResponse) -> None:
        rules.check_organisation_response(self._state, step)

    @workflow.update
    async def confirm_uptake(self, step: UptakeConfirmation) -> ReferralState:
        service_referral = self._service_referral(step.service_referral_id)
        subject = str(service_referral.id)
        opened: list[TaskSpec] = []
        check_in: list[MessageSpec] = []
        if step.started:
            service_referral.status = ServiceReferralStatus.STARTED
            if self._state.first_uptake_at is None:
                self._schedule_checkpoints(workflow.now())
                check_in = self._new_messages(self._to_person(MessageKind.PERSON_UPTAKE_CHECK_IN))
        else:
            service_referral.status = ServiceReferralStatus.DID_NOT_ATTEND
            opened.append(self._for_link_worker(TaskKind.CHOOSE_SERVICE, subject=subject))
        await self._project(
            ProjectionAction.UPTAKE_CONFIRMED if step.started else ProjectionAction.DID_NOT_ATTEND,
            step.actor,
            service_referrals=[service_referral],
            close_tasks=[TaskClosure(kind=TaskKind.CONFIRM_UPTAKE, subject_id=subject)],
            open_tasks=opened,
            messages=check_in,
            service_referral_id=service_referral.id,
        )
        return self._state

    @confirm_uptake.validator
    def _validate_uptake(self, step: UptakeConfirmation) -> None:
        rules.check_uptake(self._state, step)

    @workflow.update
    async def record_follow_up(self, step: FollowUpRecord) -> ReferralState:
        checkpoint = next(c for c in self._state.checkpoints if c.number == step.checkpoint)
        if checkpoint.status == CheckpointStatus.SCHEDULED:
            # Due, but its timer is not handled yet: record it once the checkpoint opens.
            await workflow.wait_condition(
                lambda: self._closed or checkpoint.status != CheckpointStatus.SCHEDULED
            )
            rules.check_follow_up(self._state, step, workflow.now())
        checkpoint.status = CheckpointStatus.RECORDED
        await self._project(
            ProjectionAction.FOLLOW_UP_RECORDED,
            step.actor,
            close_tasks=[
                TaskClosure(kind=TaskKind.FOLLOW_UP, subject_id=f"checkpoint-{checkpoint.number}")
            ],
            outcomes=[
                OutcomeSpec(checkpoint=f"follow_up_{checkpoint.number}", measures=step.measures)
            ],
            checkpoint=checkpoint.number,
        )
        return self._state

    @record_follow_up.validator
    def _validate_follow_up(self, step: FollowUpRecord) -> None:
        rules.check_follow_up(self._state, step, workflow.now())

    @workflow.update
    async def close(self, step: Closure) -> ReferralState:
        await self._close(step.reason, step.actor, step.note_ids)
        return self._state

    @close.validator
    def _validate_close(self, step: Closure) -> None:
        rules.check_closure(self._state, step)

    @workflow.query(name=REFERRAL_STATE_QUERY)
    def state(self) -> ReferralState:
        return self._state

    # --- helpers --------------------------------------------------------------------------

    async def _suggest_services(self) -> None:
        # Added after the first histories were recorded; they replay without the call.
        if not (self._patched_at_start or workflow.patched(SUGGEST_SERVICES)):
            return
        self._state.suggested_service_ids = await workflow.execute_local_activity_method(
            MatchingActivities.suggest_services,
            SuggestionRequest(
                referral_id=self._referral.referral_id, need_codes=self._state.need_codes
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )

    @property
    def _closed(self) -> bool:
        return self._state.status == ReferralStatus.CLOSED

    def _start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self._background.append(asyncio.create_task(coroutine))

    def _schedule_checkpoints(self, uptake_at: datetime) -> None:
        self._state.first_uptake_at = uptake_at
        self._state.status = ReferralStatus.ENGAGED
        self._state.checkpoints = [
            CheckpointState(
                number=number,
                opens_at=uptake_at + offset,
                closes_at=uptake_at + offset + self._policy.follow_up_window,
            )
            for number, offset in enumerate(self._policy.follow_up_checkpoints, start=1)
        ]

    def _service_referral(self, service_referral_id: UUID) -> ServiceReferralState:
        # The validator has checked it belongs to this referral.
        found = self._state.service_referral(service_referral_id)
        assert found is not None, "validated by rules.check_* before the handler runs"
        return found

    @staticmethod
    async def _wait_until(condition: Callable[[], bool], deadline: datetime) -> bool:
        """Wait for ``condition`` until ``deadline``; False means the deadline passed first."""
        remaining = deadline - workflow.now()
        if remaining <= timedelta(0):
            return condition()
        try:
            await workflow.wait_condition(condition, timeout=remaining)
        except TimeoutError:
            return condition()
        return True

    async def _project(
        self,
        action: ProjectionAction,
        actor: Actor,
        *,
        open_tasks: list[TaskSpec] | None = None,
        close_tasks: list[TaskClosure] | None = None,
        cancel_open_tasks: bool = False,
        service_referrals: list[ServiceReferralState] | None = None,
        outcomes: list[OutcomeSpec] | None = None,
        messages: list[MessageSpec] | None = None,
        need_codes: list[str] | None = None,
        note_ids: list[int] | None = None,
        rows_due_by: datetime | None = None,
        previous_link_worker_id: str | None = None,
        contact_method: ContactMethod | None = None,
        reached: bool | None = None,
        suggested_service_ids: list[str] | None = None,
        chosen_service_ids: list[str] | None = None,
        service_referral_id: UUID | None = None,
        reason_code: str | None = None,
        checkpoint: int | None = None,
        person_accepted: bool | None = None,
    ) -> None:
        # The snapshot is taken now, before waiting for the lock, so a step projects the
        # state it produced even if a later step changes it meanwhile.
        self._steps_taken += 1
        projection = Projection(
            referral_id=self._referral.referral_id,
            step_key=f"{self._steps_taken:03d}-{action}",
            at=workflow.now(),
            actor=actor,
            action=action,
            status=self._state.status,
            closure_reason=self._state.closure_reason,
            link_worker_id=self._state.link_worker_id,
            need_codes=need_codes,
            open_tasks=open_tasks or [],
            close_tasks=close_tasks or [],
            cancel_open_tasks=cancel_open_tasks,
            service_referrals=[s.model_copy() for s in service_referrals or []],
            outcomes=outcomes or [],
            messages=messages or [],
            note_ids=note_ids or [],
            rows_due_by=rows_due_by,
            previous_link_worker_id=previous_link_worker_id,
            contact_method=contact_method,
            reached=reached,
            suggested_service_ids=suggested_service_ids,
            chosen_service_ids=chosen_service_ids,
            service_referral_id=service_referral_id,
            reason_code=reason_code,
            checkpoint=checkpoint,
            person_accepted=person_accepted,
        )
        async with self._projection_lock:
            await workflow.execute_local_activity_method(
                ReadModelActivities.apply_projection,
                projection,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=INTAKE_RETRY if rows_due_by else STEP_RETRY,
            )

    def _for_link_worker(
        self, kind: TaskKind, due_at: datetime | None = None, subject: str | None = None
    ) -> TaskSpec:
        return TaskSpec(
            kind=kind,
            assignee_kind=AssigneeKind.LINK_WORKER,
            assignee_id=self._state.link_worker_id or "",
            due_at=due_at,
            subject_id=subject,
        )

    @staticmethod
    def _for_organisation(kind: TaskKind, service_referral: ServiceReferralState) -> TaskSpec:
        due = service_referral.respond_by if kind != TaskKind.CONFIRM_UPTAKE else None
        return TaskSpec(
            kind=kind,
            assignee_kind=AssigneeKind.ORGANISATION,
            assignee_id=service_referral.organisation_id,
            due_at=due,
            subject_id=str(service_referral.id),
        )

    @staticmethod
    def _organisation_response_tasks(subject: str, status: TaskStatus) -> list[TaskClosure]:
        return [
            TaskClosure(kind=kind, subject_id=subject, status=status)
            for kind in (TaskKind.RESPOND_TO_REFERRAL, TaskKind.RESPONSE_REMINDER)
        ]

    def _new_messages(self, *specs: MessageSpec) -> list[MessageSpec]:
        """Messages to link workers and the person, sent since LINK_WORKER_AND_PERSON_MESSAGES:
        a history recorded before replays without them. Whether the person is sent theirs is
        decided when queued, from what they agreed (activities/outbox.py)."""
        sent = self._patched_at_start or workflow.patched(LINK_WORKER_AND_PERSON_MESSAGES)
        return list(specs) if sent else []

    def _to_link_worker(self, kind: MessageKind, subject: str | None = None) -> MessageSpec:
        return MessageSpec(
            kind=kind,
            recipient_kind=RecipientKind.LINK_WORKER,
            recipient_id=self._state.link_worker_id or "",
            subject_id=subject,
        )

    def _to_person(self, kind: MessageKind) -> MessageSpec:
        # The referral's id stands for the person: their details stay in the database.
        return MessageSpec(
            kind=kind,
            recipient_kind=RecipientKind.PERSON,
            recipient_id=str(self._referral.referral_id),
        )

    def _to_practice(self, kind: MessageKind) -> MessageSpec:
        return MessageSpec(
            kind=kind,
            recipient_kind=RecipientKind.PRACTICE,
            recipient_id=self._referral.practice_ods,
        )

    @staticmethod
    def _to_organisation(kind: MessageKind, service_referral: ServiceReferralState) -> MessageSpec:
        return MessageSpec(
            kind=kind,
            recipient_kind=RecipientKind.ORGANISATION,
            recipient_id=service_referral.organisation_id,
            subject_id=str(service_referral.id),
        )
