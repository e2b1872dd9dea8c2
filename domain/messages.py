"""Pydantic messages that cross the workflow boundary: input, updates, state, projections.

They carry identifiers, codes, dates and scores only. Names, NHS numbers, addresses and
free text stay in the database, so that workflow histories never hold personal data.
"""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from domain.enums import (
    ActorKind,
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
from domain.policy import ReferralPolicy

Code = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
]


def workflow_id_for(referral_id: UUID) -> str:
    return f"referral-{referral_id}"


class Actor(BaseModel):
    kind: ActorKind
    id: Code


SYSTEM = Actor(kind=ActorKind.SYSTEM, id="socialrx")


class ReferralInput(BaseModel):
    referral_id: UUID
    practice_ods: Code
    need_codes: list[Code] = []
    policy: ReferralPolicy = ReferralPolicy()


class MeasureAnswers(BaseModel):
    """Raw item answers of one outcome instrument, e.g. SWEMWBS item -> 1..5."""

    instrument: Code
    version: Code = "1"
    answers: dict[Code, int] = Field(min_length=1)


# --- updates: one message per human step -------------------------------------------------


class Reassignment(BaseModel):
    actor: Actor
    link_worker_id: Code


class ContactAttempt(BaseModel):
    actor: Actor
    method: ContactMethod
    reached: bool
    note_ids: list[int] = Field(
        default=[],
        description="Notes written for this step (ids only; the text stays in the "
        "database), shown once the step is applied.",
    )


class Assessment(BaseModel):
    actor: Actor
    need_codes: list[Code] = Field(min_length=1)
    baseline: list[MeasureAnswers] = []
    note_ids: list[int] = Field(
        default=[],
        description="Notes written for this step (ids only; the text stays in the "
        "database), shown once the step is applied.",
    )


class ServiceChoice(BaseModel):
    service_id: Code
    organisation_id: Code


class Connection(BaseModel):
    actor: Actor
    choices: list[ServiceChoice] = Field(min_length=1)


class OrganisationResponse(BaseModel):
    actor: Actor
    service_referral_id: UUID
    accepted: bool
    reason_code: Code | None = None


class UptakeConfirmation(BaseModel):
    actor: Actor
    service_referral_id: UUID
    started: bool


class FollowUpRecord(BaseModel):
    actor: Actor
    checkpoint: int = Field(ge=1)
    measures: list[MeasureAnswers] = Field(min_length=1)


class Closure(BaseModel):
    """A step that ends the referral early: declined, ineligible, withdrawn, cancelled..."""

    actor: Actor
    reason: ClosureReason
    note_ids: list[int] = Field(
        default=[],
        description="Notes written for this step (ids only; the text stays in the "
        "database), shown once the step is applied.",
    )


# --- state, as the query answers it -----------------------------------------------------


class ContactAttemptRecord(BaseModel):
    at: datetime
    method: ContactMethod
    reached: bool


class ServiceReferralState(BaseModel):
    id: UUID
    service_id: Code
    organisation_id: Code
    status: ServiceReferralStatus
    sent_at: datetime
    respond_by: datetime
    responded_at: datetime | None = None


class CheckpointState(BaseModel):
    number: int
    opens_at: datetime
    closes_at: datetime
    status: CheckpointStatus = CheckpointStatus.SCHEDULED


class ReferralState(BaseModel):
    referral_id: UUID
    status: ReferralStatus = ReferralStatus.RECEIVED
    closure_reason: ClosureReason | None = None
    link_worker_id: str | None = None
    team_lead_id: str | None = None
    first_contact_due_at: datetime | None = None
    contact_attempts: list[ContactAttemptRecord] = []
    need_codes: list[str] = []
    assessed: bool = False
    suggested_service_ids: list[str] = Field(
        default=[], description="What matching suggested when a service was last to be chosen."
    )
    service_referrals: list[ServiceReferralState] = []
    first_uptake_at: datetime | None = None
    checkpoints: list[CheckpointState] = []

    def service_referral(self, service_referral_id: UUID) -> ServiceReferralState | None:
        return next((s for s in self.service_referrals if s.id == service_referral_id), None)


# --- projection: what one step writes to the read model ---------------------------------


class TaskSpec(BaseModel):
    kind: TaskKind
    assignee_kind: AssigneeKind
    assignee_id: str
    due_at: datetime | None = None
    subject_id: str | None = Field(
        default=None, description="The service referral or checkpoint the task is about."
    )


class TaskClosure(BaseModel):
    """Close the open tasks of this kind (and subject, when given) with this status."""

    kind: TaskKind
    subject_id: str | None = None
    status: TaskStatus = TaskStatus.DONE


class MessageSpec(BaseModel):
    kind: MessageKind
    recipient_kind: RecipientKind
    recipient_id: str
    subject_id: str | None = None


class OutcomeSpec(BaseModel):
    checkpoint: str
    measures: list[MeasureAnswers] = []
    missed: bool = False


class Projection(BaseModel):
    """One step of one referral, applied to the read model in a single transaction.

    ``step_key`` is unique within the referral; applying the same step twice changes nothing.
    The fields after ``rows_due_by`` say what the step was about. Each is set only by the
    steps its description names; the read model, report facts and timeline read them there.
    """

    referral_id: UUID
    step_key: str
    at: datetime
    actor: Actor
    action: ProjectionAction
    status: ReferralStatus
    closure_reason: ClosureReason | None = None
    link_worker_id: str | None = None
    need_codes: list[str] | None = None
    open_tasks: list[TaskSpec] = []
    close_tasks: list[TaskClosure] = []
    cancel_open_tasks: bool = False
    service_referrals: list[ServiceReferralState] = []
    outcomes: list[OutcomeSpec] = []
    messages: list[MessageSpec] = []
    note_ids: list[int] = Field(
        default=[], description="Notes written for this step: the projection shows them."
    )
    rows_due_by: datetime | None = Field(
        default=None,
        description="Set on a new referral's first step: until then a missing referral row is "
        "waited for (the API commits it just after starting the workflow); after, given up.",
    )
    previous_link_worker_id: str | None = Field(
        default=None, description="reassigned: who had the referral before."
    )
    contact_method: ContactMethod | None = Field(
        default=None, description="contact_attempted: how the person was tried."
    )
    reached: bool | None = Field(
        default=None, description="contact_attempted: whether the person was reached."
    )
    suggested_service_ids: list[str] | None = Field(
        default=None,
        description="assessed, connected: what matching suggested for the services chosen next.",
    )
    chosen_service_ids: list[str] | None = Field(
        default=None, description="connected: the services the link worker chose, in order."
    )
    service_referral_id: UUID | None = Field(
        default=None,
        description="The service referral an organisation's answer, reminder, auto-decline "
        "or uptake is about.",
    )
    reason_code: str | None = Field(
        default=None, description="organisation_accepted/declined: the organisation's reason."
    )
    checkpoint: int | None = Field(
        default=None, description="checkpoint_opened/missed, follow_up_recorded: which one."
    )
    person_accepted: bool | None = Field(
        default=None,
        description="closed: whether the person had the 'what matters' conversation, which "
        "decides the SNOMED code the GP is sent.",
    )


class SuggestionRequest(BaseModel):
    referral_id: UUID
    need_codes: list[str]


class AssignmentRequest(BaseModel):
    referral_id: UUID
    practice_ods: str


class Assignment(BaseModel):
    link_worker_id: str
    team_lead_id: str
