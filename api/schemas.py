"""Request and response bodies of the referral API."""

import re
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from nhs_number import is_valid as is_valid_nhs_number
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from activities.outcome import OutcomeDetail
from catalogue.taxonomy import is_social_prescribing_need
from domain.enums import (
    AssigneeKind,
    ClosureReason,
    ContactMethod,
    GpOutcomeSharing,
    OrganisationSharing,
    PreferredContact,
    ReferralStatus,
    ServiceReferralStatus,
    TaskKind,
    TaskStatus,
)
from domain.measures import validate as validate_measure
from domain.messages import (
    CheckpointState,
    Code,
    ContactAttemptRecord,
    MeasureAnswers,
    ServiceReferralState,
)

# The UK postcode shape (outward code, optional space, inward code), without the rarities
# of BFPO and overseas territories.
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")

# Every text the API stores lands in a column of domain/tables.py, and each limit here is
# that column's (tests/test_input_bounds.py walks them): a longer value must get a 422 that
# says what to fix, not a database error that a retry repeats (503) on PostgreSQL.
NOTE_LENGTH = 4000
"""``referral_note.text``: a note or a goal."""
EMAIL_LENGTH = 200
"""``person.email``. RFC 5321 allows 254; no one's address is that long in practice."""
ODS_CODE_LENGTH = 16
"""``practice.ods_code``."""
MAX_NEED_CODES = 20
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# What each way of contact needs: the submission's field and how to say it.
CONTACT_DETAIL_NEEDED = {
    PreferredContact.TEXT: ("phone", "a mobile phone number"),
    PreferredContact.EMAIL: ("email", "an email address"),
    PreferredContact.LETTER: ("address", "a postal address"),
}


def _known_needs(codes: list[str]) -> list[str]:
    unknown = [code for code in codes if not is_social_prescribing_need(code)]
    if unknown:
        raise ValueError(
            f"unknown need codes {', '.join(unknown)}; use terms of the social "
            "prescribing taxonomy, such as sp-social-groups"
        )
    return list(dict.fromkeys(codes))


NeedCodes = Annotated[
    list[Code], Field(min_length=1, max_length=MAX_NEED_CODES), AfterValidator(_known_needs)
]
"""The person's needs: at least one, at most ``MAX_NEED_CODES``, each a term of the social
prescribing taxonomy (``GET /taxonomies``), repeats dropped."""
NoteText = Annotated[str, StringConstraints(max_length=NOTE_LENGTH)]
OdsCode = Annotated[Code, StringConstraints(max_length=ODS_CODE_LENGTH)]


def nhs_number_digits(value: str) -> str:
    """A valid NHS number's 10 digits, spaces taken out; ValueError otherwise."""
    digits = value.replace(" ", "")
    if not (digits.isdigit() and len(digits) == 10 and is_valid_nhs_number(digits)):
        raise ValueError("must be a valid 10-digit NHS number (check digit included)")
    return digits


class ReferralSubmission(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    practice_ods: OdsCode = Field(examples=["A81001"])
    nhs_number: str = Field(
        max_length=20, examples=["9434765919"], description="10 digits, spaces allowed."
    )
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    birth_date: date
    postcode: str = Field(examples=["TS1 2AB"])
    address: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=40)
    email: EmailStr | None = Field(default=None, max_length=EMAIL_LENGTH)
    reason: str = Field(min_length=1, max_length=4000, description="Why the GP refers.")
    need_codes: NeedCodes = Field(
        examples=[["sp-social-groups"]],
        description="The person's needs as social prescribing taxonomy terms (GET /taxonomies).",
    )
    consent_given: bool = Field(description="The person agreed to be referred.")
    share_with_organisations: OrganisationSharing = Field(
        description="What the person agreed organisations they are referred to may see: "
        "contact details only, or also the reason for referral."
    )
    outcome_to_gp: GpOutcomeSharing = Field(
        description="What the person agreed may come back to the GP at the end: the codes "
        "only, or also the services taken up and the outcome measures."
    )
    preferred_contact: PreferredContact = Field(
        default=PreferredContact.PHONE,
        description="How the person wants the service to reach them: text and email need "
        "a phone number and an email address, a letter needs an address; phone (the "
        "default) means the link worker phones; none, no messages at all.",
    )
    contact_consent: bool = Field(
        default=False,
        description="The person agreed that the service may send them messages about the "
        "referral (a text or email, as preferred_contact says). False unless asked: no "
        "message goes to someone who was not asked.",
    )

    @field_validator("nhs_number")
    @classmethod
    def _valid_nhs_number(cls, value: str) -> str:
        return nhs_number_digits(value)

    @field_validator("birth_date")
    @classmethod
    def _born_in_the_past(cls, value: date) -> date:
        if value >= date.today():
            raise ValueError("must be a date in the past")
        if value < EARLIEST_BIRTH_DATE:
            raise ValueError(
                f"must be on or after {EARLIEST_BIRTH_DATE.day} {EARLIEST_BIRTH_DATE:%B %Y}; "
                "check the year"
            )
        return value

    @field_validator("email", mode="before")
    @classmethod
    def _email_fits(cls, value: object) -> object:
        # Before the address's own checks, so that the message speaks of characters.
        if isinstance(value, str) and len(value.strip()) > EMAIL_LENGTH:
            raise ValueError(f"must be at most {EMAIL_LENGTH} characters")
        return value

    @field_validator("postcode")
    @classmethod
    def _uk_postcode(cls, value: str) -> str:
        normalised = value.upper().replace(" ", "")
        if not POSTCODE.match(normalised):
            raise ValueError("must be a UK postcode such as TS1 2AB")
        return f"{normalised[:-3]} {normalised[-3:]}"

    @field_validator("preferred_contact")
    @classmethod
    def _reachable_as_preferred(
        cls, value: PreferredContact, info: ValidationInfo
    ) -> PreferredContact:
        needed = CONTACT_DETAIL_NEEDED.get(value)
        # A detail that failed its own validation is absent here and already reported.
        if needed is not None and not info.data.get(needed[0]) and needed[0] in info.data:
            raise ValueError(f"{value} needs {needed[1]}; give {needed[0]} or choose another way")
        return value

    @field_validator("consent_given")
    @classmethod
    def _consented(cls, value: bool) -> bool:
        if not value:
            raise ValueError("the person must agree to the referral before it is sent")
        return value


class ReferralCreated(BaseModel):
    id: UUID
    workflow_id: str
    status: ReferralStatus


class ReferralConflict(BaseModel):
    detail: str
    existing_referral_id: UUID | None = Field(
        description="The open referral, if the caller may see it; otherwise null."
    )


class ContactDetails(BaseModel):
    given_name: str
    family_name: str
    phone: str | None
    email: str | None
    address: str | None
    postcode: str


class ServiceReferralForOrganisation(BaseModel):
    """What an organisation sees of a referral to one of its services: enough to reach the
    person while its service referral is pending, accepted or started (and the person has
    not withdrawn consent), and the GP's reason and need codes only if the person agreed to
    share the reason. Otherwise the status only."""

    id: UUID
    service_id: str
    organisation_id: str
    status: ServiceReferralStatus
    sent_at: datetime
    respond_by: datetime
    person: ContactDetails | None = Field(
        description="Null once the organisation no longer needs to reach the person: it "
        "declined or was auto-declined, the person did not attend, the referral was "
        "withdrawn, or the person withdrew consent."
    )
    reason: str | None = Field(
        description="Null unless the person agreed to share it, and while person is null."
    )
    need_codes: list[str] = Field(
        description="The person's needs as codes: empty unless the person agreed to share "
        "the reason (a code can say as much), and while person is null."
    )


class ReferralProgress(BaseModel):
    """Where a referral stands, as a step answers it and ``GET /referrals/{id}`` shows it.

    The public copy of the workflow's state: the workflow may change its own without
    changing this API. A practice whose patient agreed to codes only gets no services."""

    referral_id: UUID
    status: ReferralStatus
    closure_reason: ClosureReason | None
    link_worker_id: str | None
    team_lead_id: str | None
    first_contact_due_at: datetime | None
    contact_attempts: list[ContactAttemptRecord]
    need_codes: list[str]
    assessed: bool = Field(description="Whether the 'what matters' conversation is recorded.")
    suggested_service_ids: list[str] = Field(
        description="What matching suggested when a service was last to be chosen."
    )
    service_referrals: list[ServiceReferralState]
    first_uptake_at: datetime | None
    checkpoints: list[CheckpointState]


class ReferralStateForOrganisation(BaseModel):
    """What an organisation's own step (accept, decline, confirm uptake) answers with: where
    the referral stands, as far as its own service referrals go. Not the other organisations
    the person was referred to, the contact attempts, the services suggested, the link worker
    or the deadlines of the link worker's work."""

    referral_id: UUID
    status: ReferralStatus
    closure_reason: ClosureReason | None
    need_codes: list[str] = Field(
        description="The person's needs, as codes, as in GET /service-referrals/{id}."
    )
    service_referrals: list[ServiceReferralState] = Field(
        description="Only the service referrals to the calling organisation's own services."
    )
    first_uptake_at: datetime | None
    checkpoints: list[CheckpointState] = Field(
        description="The follow-up checkpoints, once someone took up a service: dates only."
    )


class Note(BaseModel):
    note: NoteText | None = Field(default=None, description="Kept out of workflows.")


class ContactAttemptIn(Note):
    method: ContactMethod
    reached: bool


def _scorable(measures: list[MeasureAnswers]) -> list[MeasureAnswers]:
    instruments = [m.instrument for m in measures]
    if len(set(instruments)) != len(instruments):
        raise ValueError("each instrument may be given once")
    for measure in measures:
        validate_measure(measure)
    return measures


class AssessmentIn(BaseModel):
    need_codes: NeedCodes
    goals: list[NoteText] = Field(default=[], max_length=20)
    baseline: list[MeasureAnswers] = []

    _scorable_baseline = field_validator("baseline")(_scorable)


class ConnectionIn(BaseModel):
    service_ids: list[Code] = Field(min_length=1, max_length=10)


class OrganisationResponseIn(BaseModel):
    accepted: bool
    reason_code: Code | None = Field(default=None, examples=["no_capacity"])


class UptakeIn(BaseModel):
    started: bool


class FollowUpIn(BaseModel):
    measures: list[MeasureAnswers] = Field(min_length=1)

    _scorable_measures = field_validator("measures")(_scorable)


class LinkWorkerClosureIn(Note):
    reason: Literal[
        ClosureReason.DECLINED, ClosureReason.INELIGIBLE, ClosureReason.NO_SUITABLE_SERVICE
    ]


class ReassignmentIn(BaseModel):
    link_worker_id: Code


class TaskOut(BaseModel):
    id: int
    referral_id: UUID
    kind: TaskKind
    assignee_kind: AssigneeKind
    assignee_id: str
    subject_id: str | None
    status: TaskStatus
    due_at: datetime | None
    created_at: datetime
    closed_at: datetime | None


class ServiceReferralOut(BaseModel):
    id: UUID
    referral_id: UUID
    service_id: str
    organisation_id: str
    status: ServiceReferralStatus
    sent_at: datetime
    respond_by: datetime
    responded_at: datetime | None


class TimelineEntry(BaseModel):
    at: datetime
    actor_kind: str
    actor_id: str
    action: str
    detail: dict[str, object]


class PersonOut(BaseModel):
    nhs_number: str
    given_name: str
    family_name: str
    birth_date: date
    postcode: str


class ReferralSummary(BaseModel):
    id: UUID
    practice_ods: str
    status: ReferralStatus
    closure_reason: ClosureReason | None
    link_worker_id: str | None
    need_codes: list[str]
    created_at: datetime
    updated_at: datetime | None
    closed_at: datetime | None


class ReferralDetail(ReferralSummary):
    person: PersonOut
    state: ReferralProgress | None = Field(
        description="Where the workflow is now; null if Temporal could not be asked."
    )
    tasks: list[TaskOut]
    service_referrals: list[ServiceReferralOut]
    timeline: list[TimelineEntry]
    outcome: OutcomeDetail | None = Field(
        default=None,
        description="Once closed: each measure's baseline, latest score and change, and the "
        "services taken up. Null before, and for a practice whose patient agreed that only "
        "codes go back to the GP.",
    )
