"""Which human step is legal when: the checks behind every update validator.

Each check reads the referral's state and raises ``IllegalStep`` with a message that tells
the person what to do instead. They never change state, so a rejected step writes nothing.
"""

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from functools import partial
from uuid import UUID

from temporalio.exceptions import ApplicationError

from domain.enums import (
    ILLEGAL_STEP,
    ActorKind,
    CheckpointStatus,
    ClosureReason,
    ContactMethod,
    ReferralStatus,
    ServiceReferralStatus,
)
from domain.messages import (
    Actor,
    Assessment,
    Closure,
    Connection,
    ContactAttempt,
    FollowUpRecord,
    OrganisationResponse,
    Reassignment,
    ReferralState,
    ServiceReferralState,
    UptakeConfirmation,
)

LIVE_SERVICE_REFERRAL = (
    ServiceReferralStatus.PENDING,
    ServiceReferralStatus.ACCEPTED,
    ServiceReferralStatus.STARTED,
)

# Who may end a referral early, and in which states.
CLOSABLE_BY_STEP: dict[ClosureReason, tuple[ReferralStatus, ...]] = {
    ClosureReason.DECLINED: (
        ReferralStatus.ASSIGNED,
        ReferralStatus.CONTACTING,
        ReferralStatus.ASSESSED,
        ReferralStatus.CONNECTING,
    ),
    ClosureReason.INELIGIBLE: (
        ReferralStatus.ASSIGNED,
        ReferralStatus.CONTACTING,
        ReferralStatus.ASSESSED,
    ),
    ClosureReason.NO_SUITABLE_SERVICE: (ReferralStatus.ASSESSED, ReferralStatus.CONNECTING),
    ClosureReason.CONSENT_WITHDRAWN: tuple(s for s in ReferralStatus if s != ReferralStatus.CLOSED),
    ClosureReason.CANCELLED_BY_REFERRER: tuple(
        s for s in ReferralStatus if s != ReferralStatus.CLOSED
    ),
}

# Ending a referral against the person's or the GP's wishes is theirs to say, not an
# organisation's.
CLOSABLE_BY: dict[ClosureReason, tuple[ActorKind, ...]] = {
    ClosureReason.CONSENT_WITHDRAWN: (
        ActorKind.PRACTICE,
        ActorKind.LINK_WORKER,
        ActorKind.ADMIN,
        ActorKind.SYSTEM,
    ),
    ClosureReason.CANCELLED_BY_REFERRER: (ActorKind.PRACTICE, ActorKind.ADMIN, ActorKind.SYSTEM),
}


class IllegalStep(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, type=ILLEGAL_STEP, non_retryable=True)


def _require_open(state: ReferralState) -> None:
    if state.status == ReferralStatus.CLOSED:
        reason = state.closure_reason.value if state.closure_reason else "closed"
        raise IllegalStep(f"This referral is closed ({reason}); no further steps can be recorded.")


def _require_link_worker_assigned(state: ReferralState) -> None:
    if state.link_worker_id is None:
        raise IllegalStep("No link worker is assigned yet; try again in a moment.")


def contact_made(state: ReferralState) -> bool:
    return any(attempt.reached for attempt in state.contact_attempts)


def check_reassignment(state: ReferralState, step: Reassignment) -> None:
    _require_open(state)
    _require_link_worker_assigned(state)
    if step.link_worker_id == state.link_worker_id:
        raise IllegalStep(f"The referral is already assigned to {step.link_worker_id}.")


def check_contact_attempt(state: ReferralState, step: ContactAttempt) -> None:
    _require_open(state)
    _require_link_worker_assigned(state)
    if contact_made(state):
        raise IllegalStep(
            "Contact has already been made; record the 'what matters' conversation next."
        )


def check_assessment(state: ReferralState, step: Assessment) -> None:
    _require_open(state)
    if not contact_made(state):
        raise IllegalStep(
            "The person has not been reached yet; record a successful contact attempt before "
            "the 'what matters' conversation."
        )
    if state.assessed:
        raise IllegalStep("The 'what matters' conversation is already recorded.")


def check_connection(state: ReferralState, step: Connection) -> None:
    _require_open(state)
    if not state.assessed:
        raise IllegalStep(
            "Record the 'what matters' conversation before connecting the person to a service."
        )
    if state.status == ReferralStatus.FOLLOW_UP:
        raise IllegalStep("The referral is in follow-up; new services can no longer be added.")
    chosen = [choice.service_id for choice in step.choices]
    if len(set(chosen)) != len(chosen):
        raise IllegalStep("The same service is chosen twice; choose each service once.")
    live = {s.service_id for s in state.service_referrals if s.status in LIVE_SERVICE_REFERRAL}
    already = sorted(live.intersection(chosen))
    if already:
        raise IllegalStep(f"Already referred to {', '.join(already)} and awaiting or active there.")


def _service_referral_for(
    state: ReferralState, service_referral_id: UUID, actor: Actor
) -> ServiceReferralState:
    if not state.service_referrals:
        raise IllegalStep(
            "No service has been chosen for this referral yet; the link worker must connect "
            "it to a service first."
        )
    found = state.service_referral(service_referral_id)
    if found is None:
        raise IllegalStep(f"No service referral {service_referral_id} belongs to this referral.")
    if actor.kind == ActorKind.ORGANISATION and actor.id != found.organisation_id:
        raise IllegalStep("This service referral was sent to another organisation.")
    return found


def check_organisation_response(state: ReferralState, step: OrganisationResponse) -> None:
    _require_open(state)
    service_referral = _service_referral_for(state, step.service_referral_id, step.actor)
    if service_referral.status != ServiceReferralStatus.PENDING:
        raise IllegalStep(
            f"This service referral is already {service_referral.status.value}; "
            "it can only be accepted or declined while pending."
        )


def check_uptake(state: ReferralState, step: UptakeConfirmation) -> None:
    _require_open(state)
    service_referral = _service_referral_for(state, step.service_referral_id, step.actor)
    if service_referral.status == ServiceReferralStatus.PENDING:
        raise IllegalStep("Accept the referral before confirming whether the person started.")
    if service_referral.status != ServiceReferralStatus.ACCEPTED:
        raise IllegalStep(
            f"This service referral is {service_referral.status.value}; uptake can only be "
            "confirmed once, after it was accepted."
        )


def check_follow_up(state: ReferralState, step: FollowUpRecord, now: datetime) -> None:
    """A checkpoint takes its follow-up once open, or once due even if not yet seen to open.

    The second case spares a link worker a refusal in the moment between the opening time and
    the workflow handling its timer; the update then waits for the opening, which is prompt
    because every earlier checkpoint is settled.
    """
    _require_open(state)
    checkpoint = next((c for c in state.checkpoints if c.number == step.checkpoint), None)
    if checkpoint is None:
        raise IllegalStep(
            f"There is no follow-up checkpoint {step.checkpoint}; checkpoints are scheduled "
            "once the person has started a service."
        )
    if checkpoint.status == CheckpointStatus.SCHEDULED:
        earlier_settled = all(
            c.status in (CheckpointStatus.RECORDED, CheckpointStatus.MISSED)
            for c in state.checkpoints
            if c.number < checkpoint.number
        )
        if now >= checkpoint.opens_at and earlier_settled:
            return
        raise IllegalStep(
            f"Follow-up checkpoint {step.checkpoint} opens at {checkpoint.opens_at.isoformat()}."
        )
    if checkpoint.status != CheckpointStatus.OPEN:
        raise IllegalStep(
            f"Follow-up checkpoint {step.checkpoint} is already {checkpoint.status.value}."
        )


def check_closure(state: ReferralState, step: Closure) -> None:
    _require_open(state)
    allowed_states = CLOSABLE_BY_STEP.get(step.reason)
    if allowed_states is None:
        raise IllegalStep(
            f"A referral is closed as {step.reason.value} by the system, not by hand."
        )
    if state.status not in allowed_states:
        allowed = ", ".join(s.value for s in allowed_states)
        raise IllegalStep(
            f"A referral that is {state.status.value} cannot be closed as {step.reason.value}; "
            f"that is possible only when it is {allowed}."
        )
    permitted = CLOSABLE_BY.get(step.reason)
    if permitted is not None and step.actor.kind not in permitted:
        who = " or ".join(kind.value for kind in permitted if kind != ActorKind.SYSTEM)
        raise IllegalStep(f"Only the {who} can close a referral as {step.reason.value}.")


class LegalStep(StrEnum):
    """A step a link worker may be offered; the pages offer only those legal now."""

    CONTACT_ATTEMPT = "contact_attempt"
    ASSESSMENT = "assessment"
    CONNECTION = "connection"
    FOLLOW_UP = "follow_up"
    CLOSE_DECLINED = "close_declined"
    CLOSE_INELIGIBLE = "close_ineligible"
    CLOSE_NO_SUITABLE_SERVICE = "close_no_suitable_service"
    REASSIGN = "reassign"
    WITHDRAW_CONSENT = "withdraw_consent"


LINK_WORKER_CLOSURES = {
    LegalStep.CLOSE_DECLINED: ClosureReason.DECLINED,
    LegalStep.CLOSE_INELIGIBLE: ClosureReason.INELIGIBLE,
    LegalStep.CLOSE_NO_SUITABLE_SERVICE: ClosureReason.NO_SUITABLE_SERVICE,
    LegalStep.WITHDRAW_CONSENT: ClosureReason.CONSENT_WITHDRAWN,
}


def _passes(check: Callable[[], None]) -> bool:
    try:
        check()
    except IllegalStep:
        return False
    return True


def open_checkpoints(state: ReferralState, actor: Actor, now: datetime) -> list[int]:
    """The follow-up checkpoints that would take a follow-up now (``check_follow_up``)."""
    return [
        checkpoint.number
        for checkpoint in state.checkpoints
        if _passes(
            partial(
                check_follow_up,
                state,
                FollowUpRecord.model_construct(
                    actor=actor, checkpoint=checkpoint.number, measures=[]
                ),
                now,
            )
        )
    ]


def legal_steps(state: ReferralState, actor: Actor, now: datetime) -> set[LegalStep]:
    """The link worker's steps that the workflow's validators would accept now.

    Each is asked of the very check its validator runs, with a probe step (built without
    validation: the probes carry only what the check reads), so a page never offers a step
    the workflow would refuse because of where the referral stands. What the probe cannot
    know (the service chosen, the colleague named) the check still refuses on the day.
    """
    probes: dict[LegalStep, Callable[[], None]] = {
        LegalStep.CONTACT_ATTEMPT: lambda: check_contact_attempt(
            state,
            ContactAttempt.model_construct(actor=actor, method=ContactMethod.PHONE, reached=False),
        ),
        LegalStep.ASSESSMENT: lambda: check_assessment(
            state, Assessment.model_construct(actor=actor, need_codes=[])
        ),
        LegalStep.CONNECTION: lambda: check_connection(
            state, Connection.model_construct(actor=actor, choices=[])
        ),
        # Any colleague but the one assigned: whether one exists is the page's to ask.
        LegalStep.REASSIGN: lambda: check_reassignment(
            state, Reassignment.model_construct(actor=actor, link_worker_id="")
        ),
    }
    for step, reason in LINK_WORKER_CLOSURES.items():
        probes[step] = partial(
            check_closure, state, Closure.model_construct(actor=actor, reason=reason)
        )
    legal = {step for step, probe in probes.items() if _passes(probe)}
    if open_checkpoints(state, actor, now):
        legal.add(LegalStep.FOLLOW_UP)
    return legal
