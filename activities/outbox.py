"""What each outbox message says. The relay (activities/relay.py) sends it.

A message to the person is queued only as the person agreed at intake (consent to messages,
and text or email as the way): the workflow names every message a step may send, and this
is where what the person said decides. Messages to link workers carry no personal data: the
kind, ids, a due date and the path of the referral's page.
"""

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel import Session, col, select

from activities.outcome import services_taken_up
from domain.codes import SNOMED_DISPLAY, snomed_code_for_closure
from domain.consent import for_organisation, outcome_details_for_gp
from domain.enums import MessageKind, PreferredContact, RecipientKind
from domain.messages import MessageSpec, Projection
from domain.tables import (
    Consent,
    LinkWorker,
    LinkWorkerTeam,
    OutboxMessage,
    OutcomeRecord,
    Person,
    Referral,
    ServiceReferral,
)

log = logging.getLogger(__name__)

# The ways of contact GOV.UK Notify carries, and where each one goes.
NOTIFY_ADDRESSES = {PreferredContact.TEXT: "phone_number", PreferredContact.EMAIL: "email_address"}


def queue_message(session: Session, projection: Projection, spec: MessageSpec) -> None:
    """Queue one message of a step; a message to a person who did not agree to it is not
    queued at all (logged by kind and referral only)."""
    payload = _payload(session, projection, spec)
    if payload is None:
        log.info(
            "%s for referral %s not queued: not as the person agreed",
            spec.kind,
            projection.referral_id,
        )
        return
    dedupe_key = ":".join(
        [str(projection.referral_id), projection.step_key, spec.kind, spec.recipient_id]
        + ([spec.subject_id] if spec.subject_id else [])
    )
    session.add(
        OutboxMessage(
            dedupe_key=dedupe_key,
            referral_id=projection.referral_id,
            kind=spec.kind,
            recipient_kind=spec.recipient_kind,
            recipient_id=spec.recipient_id,
            payload=payload,
            created_at=projection.at,
        )
    )


def _payload(session: Session, projection: Projection, spec: MessageSpec) -> dict[str, Any] | None:
    referral = session.get(Referral, projection.referral_id)
    person = session.get(Person, projection.referral_id)
    assert referral is not None and person is not None, "the API writes both before starting"
    base: dict[str, Any] = {"referral_id": str(referral.id), "kind": spec.kind.value}
    if spec.kind == MessageKind.GP_ACKNOWLEDGEMENT:
        return base | {"nhs_number": person.nhs_number, "received_at": _iso(projection.at)}
    if spec.kind == MessageKind.GP_OUTCOME:
        return base | _gp_outcome(session, referral, person, projection)
    if spec.recipient_kind == RecipientKind.PERSON:
        return _to_person(session, referral, person, projection, spec)
    if spec.recipient_kind == RecipientKind.LINK_WORKER:
        return base | _for_link_worker(session, referral, projection, spec)
    service_referral = session.get(ServiceReferral, UUID(spec.subject_id or ""))
    assert service_referral is not None, "service referrals are projected with their message"
    base |= {
        "service_referral_id": str(service_referral.id),
        "service_id": service_referral.service_id,
        "respond_by": _iso(service_referral.respond_by),
    }
    if spec.kind == MessageKind.ORGANISATION_REFERRAL:
        # What an organisation needs to contact the person, trimmed to what consent allows.
        consent = session.get(Consent, referral.id)
        base |= for_organisation(person, consent, referral.need_codes)
    return base


def _to_person(
    session: Session,
    referral: Referral,
    person: Person,
    projection: Projection,
    spec: MessageSpec,
) -> dict[str, Any] | None:
    """What GOV.UK Notify needs (see activities/channels/notify.py), or None if the person
    did not agree to messages, or to none that Notify carries (letters are not sent yet)."""
    consent = session.get(Consent, referral.id)
    if consent is None or not consent.contact_consent:
        return None
    method = PreferredContact(consent.preferred_contact)
    address_key = NOTIFY_ADDRESSES.get(method)
    address = person.phone if method == PreferredContact.TEXT else person.email
    if address_key is None or not address:
        return None
    personalisation = _personalisation(session, referral, projection, spec)
    if personalisation is None:
        return None
    return {
        "referral_id": str(referral.id),
        "kind": spec.kind.value,
        "contact_consent": True,
        "contact_method": method.value,
        address_key: address,
        "personalisation": personalisation,
    }


def _personalisation(
    session: Session, referral: Referral, projection: Projection, spec: MessageSpec
) -> dict[str, str] | None:
    if spec.kind == MessageKind.PERSON_LINK_WORKER_WILL_CONTACT:
        link_worker = session.get(LinkWorker, referral.link_worker_id or "")
        team = session.get(LinkWorkerTeam, link_worker.team_id) if link_worker else None
        due = _due(projection)
        if team is None or not team.phone or due is None:
            # Without the number to expect a call from, the text would only worry the person.
            log.warning("%s for referral %s: the team has no phone number", spec.kind, referral.id)
            return None
        return {"link_worker_phone": team.phone, "contact_by": _human_date(due)}
    if spec.kind == MessageKind.PERSON_UPTAKE_CHECK_IN:
        return {}
    raise ValueError(f"no message to the person of kind {spec.kind}")


def _for_link_worker(
    session: Session, referral: Referral, projection: Projection, spec: MessageSpec
) -> dict[str, Any]:
    """Identifiers, codes and dates only: what happened, by when, and where to look."""
    due = _due(projection)
    payload: dict[str, Any] = {
        "due_at": _iso(due) if due else None,
        "link": f"/referrals/{referral.id}",
    }
    if spec.kind == MessageKind.LINK_WORKER_ORGANISATION_DECLINED:
        service_referral = session.get(ServiceReferral, UUID(spec.subject_id or ""))
        assert service_referral is not None, "declined service referrals are projected with it"
        payload |= {
            "service_referral_id": str(service_referral.id),
            "service_id": service_referral.service_id,
        }
    if projection.checkpoint is not None:
        payload["checkpoint"] = projection.checkpoint
    return payload


def _due(projection: Projection) -> datetime | None:
    """When the step's new task is due: what the message asks for, and by when."""
    return next((task.due_at for task in projection.open_tasks if task.due_at), None)


def _human_date(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def _gp_outcome(
    session: Session, referral: Referral, person: Person, projection: Projection
) -> dict[str, Any]:
    reason = projection.closure_reason
    assert reason is not None, "the GP's outcome message is sent by the closing step"
    code = snomed_code_for_closure(reason, bool(projection.person_accepted))
    link_worker = session.get(LinkWorker, referral.link_worker_id or "")
    codes: dict[str, Any] = {
        "nhs_number": person.nhs_number,
        # Who the document is about, as the practice files it; MESH's automated routing to
        # the registered practice also needs the date of birth and surname.
        "given_name": person.given_name,
        "family_name": person.family_name,
        "birth_date": person.birth_date.isoformat(),
        "practice_ods": referral.practice_ods,
        "referred_at": _iso(referral.created_at),
        "link_worker": None
        if link_worker is None
        else {"id": link_worker.id, "name": link_worker.name},
        "snomed": {"code": code, "display": SNOMED_DISPLAY[code]},
        "closure_reason": reason.value,
        "closed_at": _iso(projection.at),
    }
    if not outcome_details_for_gp(session.get(Consent, referral.id)):
        # The person agreed to the codes only: no services, no measures.
        return codes | {"outcome_details_withheld": True}
    outcomes = session.exec(
        select(OutcomeRecord)
        .where(OutcomeRecord.referral_id == referral.id)
        .order_by(col(OutcomeRecord.recorded_at), col(OutcomeRecord.instrument))
    ).all()
    measures: dict[str, Any] = {}
    for record in outcomes:
        checkpoint = measures.setdefault(record.checkpoint, {"missed": False, "measures": []})
        if record.missed:
            checkpoint["missed"] = True
        else:
            checkpoint["measures"].append(
                {
                    "instrument": record.instrument,
                    "version": record.version,
                    "answers": record.answers,
                }
            )
    return codes | {
        "outcome_details_withheld": False,
        "services_taken_up": [
            service.model_dump() for service in services_taken_up(session, referral.id)
        ],
        "measures": measures,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat()
