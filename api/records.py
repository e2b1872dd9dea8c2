"""People's rights over their records, for the routes and pages: a copy of everything held
(admins), correcting contact details (the referring practice, the link worker's team), and
erasure (admins). The records themselves are ``activities.records``."""

import logging
from typing import Literal
from uuid import UUID

from fastapi import status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.networks import validate_email
from sqlmodel import Session

from activities.records import OpenReferral, erase_person
from api.access import LINK_WORKER_TEAM, PRACTICE, Access
from api.errors import Refused
from api.schemas import CONTACT_DETAIL_NEEDED, nhs_number_digits
from domain.enums import PreferredContact
from domain.messages import Actor
from domain.tables import AuditEvent, Consent, Person, utcnow

log = logging.getLogger(__name__)

CORRECTED_ACTION = "contact_details_corrected"
"""The audit entry (timeline) of a correction; its detail names the fields, never values."""
EMAIL_MAX = 200  # Person.email's column


class PersonAsked(BaseModel):
    """Whose records: the NHS number is in the body, so no address or log line holds it."""

    nhs_number: str = Field(examples=["9434765919"], description="10 digits, spaces allowed.")

    @field_validator("nhs_number")
    @classmethod
    def _valid(cls, value: str) -> str:
        return nhs_number_digits(value)


class ExportAsked(PersonAsked):
    format: Literal["json", "pdf"] = Field(
        default="json", description="json: every record as data; pdf: the same, readable."
    )


class Erased(BaseModel):
    redacted_referrals: list[UUID] = Field(
        description="The referrals whose person was redacted now (none if already redacted)."
    )


class ContactCorrection(BaseModel):
    """The contact details to change. A field left out stays as it is; null removes it."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    phone: str | None = Field(default=None, min_length=1, max_length=40)
    email: str | None = Field(default=None, min_length=1, max_length=EMAIL_MAX)
    address: str | None = Field(default=None, min_length=1, max_length=500)
    preferred_contact: PreferredContact | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return validate_email(value)[1]
        except ValueError:
            raise ValueError("must be an email address such as name@example.org") from None

    @field_validator("preferred_contact")
    @classmethod
    def _given(cls, value: PreferredContact | None) -> PreferredContact:
        if value is None:
            raise ValueError("choose how the person wants to be contacted; it cannot be empty")
        return value


class ContactDetails(BaseModel):
    phone: str | None
    email: str | None
    address: str | None
    preferred_contact: PreferredContact


def correct_contact_details(
    access: Access, referral_id: UUID, correction: ContactCorrection
) -> ContactDetails:
    """Change the person's contact details on this referral, as the practice that referred or
    the link worker's team; 404 for anyone else. Audited with the names of the fields changed."""
    access.actionable_referral_or_404(
        referral_id, PRACTICE, LINK_WORKER_TEAM, to="correct a person's contact details"
    )
    return apply_correction(access.session, referral_id, correction, access.principal.actor)


def apply_correction(
    session: Session, referral_id: UUID, correction: ContactCorrection, actor: Actor
) -> ContactDetails:
    """The correction itself, once the caller may make it (the route checks the referral is
    theirs; the CLI is an operator's): the one place contact details change and are audited."""
    try:
        asked = correction.model_fields_set
        if not asked:
            raise Refused(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "give at least one of phone, email, address or preferred_contact",
            )
        person = session.get(Person, referral_id)
        consent = session.get(Consent, referral_id)
        if person is None or consent is None:  # intake writes both with a referral
            raise Refused(status.HTTP_404_NOT_FOUND, f"no referral {referral_id}", "referral_id")
        if person.redacted_at is not None:
            raise Refused(
                status.HTTP_409_CONFLICT, "this person's details were redacted; refer them again"
            )
        before = ContactDetails(
            phone=person.phone,
            email=person.email,
            address=person.address,
            preferred_contact=consent.preferred_contact,
        )
        after = before.model_copy(update={name: getattr(correction, name) for name in asked})
        changed = sorted(name for name in asked if getattr(after, name) != getattr(before, name))
        needed = CONTACT_DETAIL_NEEDED.get(after.preferred_contact)
        if needed is not None and not getattr(after, needed[0]):
            raise Refused(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"{after.preferred_contact} needs {needed[1]}; give {needed[0]} or "
                "choose another way",
                "preferred_contact",
            )
        if changed:
            person.phone, person.email, person.address = after.phone, after.email, after.address
            consent.preferred_contact = after.preferred_contact
            session.add_all([person, consent])
            session.add(
                AuditEvent(
                    referral_id=referral_id,
                    actor_kind=actor.kind,
                    actor_id=actor.id,
                    action=CORRECTED_ACTION,
                    at=utcnow(),
                    detail={"fields": changed},
                )
            )
            session.commit()
            log.info("contact details corrected on referral %s: %s", referral_id, changed)
        return after
    finally:
        session.rollback()


def erase(access: Access, nhs_number: str) -> Erased:
    """Redact a person now, as an admin (the router checks); 409 while a referral of theirs
    is open. Nothing held about the number (or already redacted) redacts nothing."""
    try:
        redacted = erase_person(access.session, nhs_number, access.principal.actor)
    except OpenReferral as refusal:
        raise Refused(status.HTTP_409_CONFLICT, str(refusal), "nhs_number") from None
    access.log_all(redacted)
    return Erased(redacted_referrals=redacted)
