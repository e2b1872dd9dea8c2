"""What each outbox message says. The relay (activities/relay.py) sends it."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel import Session, col, select

from activities.outcome import services_taken_up
from domain.codes import SNOMED_DISPLAY, snomed_code_for_closure
from domain.consent import for_organisation, outcome_details_for_gp
from domain.enums import MessageKind
from domain.messages import MessageSpec, Projection
from domain.tables import (
    Consent,
    LinkWorker,
    OutboxMessage,
    OutcomeRecord,
    Person,
    Referral,
    ServiceReferral,
)


def queue_message(session: Session, projection: Projection, spec: MessageSpec) -> None:
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
            payload=_payload(session, projection, spec),
            created_at=projection.at,
        )
    )


def _payload(session: Session, projection: Projection, spec: MessageSpec) -> dict[str, Any]:
    referral = session.get(Referral, projection.referral_id)
    person = session.get(Person, projection.referral_id)
    assert referral is not None and person is not None, "the API writes both before starting"
    base: dict[str, Any] = {"referral_id": str(referral.id), "kind": spec.kind.value}
    if spec.kind == MessageKind.GP_ACKNOWLEDGEMENT:
        return base | {"nhs_number": person.nhs_number, "received_at": _iso(projection.at)}
    if spec.kind == MessageKind.GP_OUTCOME:
        return base | _gp_outcome(session, referral, person, projection)
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
        base |= for_organisation(person, consent) | {"need_codes": referral.need_codes}
    return base


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
