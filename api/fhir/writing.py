"""Our referral as FHIR: the ServiceRequest the GP sent, and the Task that tracks it.

Every resource is built as JSON and checked against its ``fhir.resources.R4B`` model, so
what goes out is valid FHIR.
"""

from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task
from sqlmodel import Session, col, select

from activities.outcome import ChangeDirection, MeasureOutcome, outcome_detail
from api.fhir import systems
from catalogue.tables import Service
from catalogue.taxonomy import SOCIAL_PRESCRIBING_TERMS
from domain.codes import REFERRAL_TO_SOCIAL_PRESCRIBING, SNOMED_DISPLAY, snomed_code_for_closure
from domain.consent import sharing
from domain.enums import (
    ClosureReason,
    GpOutcomeSharing,
    OrganisationSharing,
    ReferralStatus,
    ServiceReferralStatus,
)
from domain.measures import DEFAULT_THRESHOLDS, MeasureThresholds
from domain.tables import Consent, Person, Referral, ServiceReferral

# Task.status of the HL7 SDOH Clinical Care guide, from our status and closure reason.
TASK_STATUS_WHILE_OPEN = {ReferralStatus.RECEIVED: "requested", ReferralStatus.ASSIGNED: "accepted"}
TASK_STATUS_WHEN_CLOSED = {
    ClosureReason.COMPLETED: "completed",
    ClosureReason.LOST_TO_FOLLOW_UP: "completed",
    ClosureReason.DECLINED: "cancelled",
    ClosureReason.CONSENT_WITHDRAWN: "cancelled",
    ClosureReason.CANCELLED_BY_REFERRER: "cancelled",
    ClosureReason.INELIGIBLE: "rejected",
    ClosureReason.UNABLE_TO_CONTACT: "failed",
    ClosureReason.NO_SUITABLE_SERVICE: "failed",
}


def task_status(referral: Referral) -> str:
    if referral.status == ReferralStatus.CLOSED:
        return TASK_STATUS_WHEN_CLOSED[referral.closure_reason or ClosureReason.COMPLETED]
    return TASK_STATUS_WHILE_OPEN.get(referral.status, "in-progress")


def service_request(session: Session, referral: Referral) -> dict[str, Any]:
    person = session.get(Person, referral.id)
    assert person is not None, "a referral's person is written with it"
    consent = session.get(Consent, referral.id)
    closed = referral.status == ReferralStatus.CLOSED
    completed = task_status(referral) == "completed"
    # What a FHIR referral was sent with comes back as sent; when it arrived is an extension.
    sent = referral.fhir_elements or {}
    meta: dict[str, Any] = {"lastUpdated": _instant(referral.updated_at or referral.created_at)}
    if sent.get("profile"):
        meta["profile"] = sent["profile"]
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(referral.id),
        "meta": meta,
        "extension": [{"url": systems.RECEIVED_AT, "valueDateTime": _instant(referral.created_at)}],
        "identifier": [{"system": systems.REFERRAL_ID, "value": str(referral.id)}],
        "contained": [_patient(person), _consent(referral, consent)],
        "status": ("completed" if completed else "revoked") if closed else "active",
        "intent": "order",
        "code": _snomed(REFERRAL_TO_SOCIAL_PRESCRIBING),
        "subject": {"reference": "#patient"},
        "authoredOn": sent.get("authoredOn", _instant(referral.created_at)),
        "requester": _ods(referral.practice_ods),
        **{key: sent[key] for key in ("category", "priority") if key in sent},
        "reasonCode": [
            {"coding": [{"system": systems.NEED, "code": code, "display": _need(code)}]}
            for code in referral.need_codes
        ]
        + [{"text": person.reason}],
        "supportingInfo": [{"reference": "#consent"}],
    }
    # Checked above; put back exactly as written (the model rewrites "+00:00" as "Z").
    return _checked(ServiceRequest, resource) | {
        key: sent[key] for key in ("category", "priority", "authoredOn") if key in sent
    }


def task(
    session: Session,
    referral: Referral,
    *,
    outcome_details: bool,
    thresholds: MeasureThresholds = DEFAULT_THRESHOLDS,
) -> dict[str, Any]:
    """``outcome_details``: whether the caller may see which services the person took up and
    how their measures changed (not a practice whose patient agreed that only codes go back
    to the GP). ``thresholds``: what change is meaningful (``settings.measures``)."""
    person = session.get(Person, referral.id)
    assert person is not None, "a referral's person is written with it"
    status = task_status(referral)
    # Rows hold the plain string values of these enums.
    business = str(referral.closure_reason or referral.status)
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(referral.id),
        "meta": {"lastUpdated": _instant(referral.updated_at or referral.created_at)},
        "status": status,
        "businessStatus": {
            "coding": [{"system": systems.BUSINESS_STATUS, "code": business}],
            "text": business.replace("_", " "),
        },
        "intent": "order",
        "code": {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/CodeSystem/task-code",
                    "code": "fulfill",
                    "display": "Fulfill the focal request",
                }
            ]
        },
        "basedOn": [{"reference": f"ServiceRequest/{referral.id}"}],
        "focus": {"reference": f"ServiceRequest/{referral.id}"},
        "for": {"identifier": {"system": systems.NHS_NUMBER, "value": person.nhs_number}},
        "authoredOn": _instant(referral.created_at),
        "lastModified": _instant(referral.updated_at or referral.created_at),
        "requester": _ods(referral.practice_ods),
    }
    if referral.link_worker_id:
        resource["owner"] = {
            "identifier": {"system": systems.LINK_WORKER, "value": referral.link_worker_id}
        }
    if status == "completed":
        resource["output"] = _outputs(session, referral, outcome_details)
        if outcome_details:
            _add_measures(resource, outcome_detail(session, referral.id, thresholds).measures)
    return _checked(Task, resource)


def _outputs(session: Session, referral: Referral, details: bool) -> list[dict[str, Any]]:
    """What the referral led to: the outcome code the GP record gets, and (with ``details``)
    each service the person took up."""
    resulting = {
        "coding": [{"system": systems.SDOHCC_TEMPORARY_CODES, "code": systems.RESULTING_ACTIVITY}]
    }
    reason = referral.closure_reason or ClosureReason.COMPLETED
    outputs: list[dict[str, Any]] = [
        {
            "type": resulting,
            "valueCodeableConcept": _snomed(snomed_code_for_closure(reason, True)),
        }
    ]
    if not details:
        return outputs
    taken_up = session.exec(
        select(ServiceReferral.service_id, Service.name)
        .join(Service, col(Service.id) == col(ServiceReferral.service_id), isouter=True)
        .where(ServiceReferral.referral_id == referral.id)
        .where(ServiceReferral.status == ServiceReferralStatus.STARTED)
        .order_by(col(ServiceReferral.sent_at))
    ).all()
    for service_id, name in taken_up:
        reference: dict[str, Any] = {"identifier": {"system": systems.SERVICE, "value": service_id}}
        if name:
            reference["display"] = name
        outputs.append({"type": resulting, "valueReference": reference})
    return outputs


# How each measure changed: a contained Observation per instrument, referenced by an output.
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
INTERPRETATION_CODE = {ChangeDirection.BETTER: "B", ChangeDirection.WORSE: "W"}


def _add_measures(resource: dict[str, Any], measures: list[MeasureOutcome]) -> None:
    for measure in measures:
        observation_id = f"measure-{measure.instrument}"
        resource.setdefault("contained", []).append(_observation(observation_id, measure))
        resource["output"].append(
            {
                "type": {
                    "coding": [
                        {
                            "system": systems.OUTCOME_MEASURE,
                            "code": measure.instrument,
                            "display": measure.title,
                        }
                    ]
                },
                "valueReference": {"reference": f"#{observation_id}", "display": measure.title},
            }
        )


def _observation(observation_id: str, measure: MeasureOutcome) -> dict[str, Any]:
    def part(code: str) -> dict[str, Any]:
        return {"coding": [{"system": systems.OUTCOME_MEASURE_PART, "code": code}], "text": code}

    components: list[dict[str, Any]] = [
        {"code": part(name), "valueQuantity": {"value": value}}
        for name, value in (
            ("baseline", measure.baseline_score),
            ("latest", measure.latest_score),
            ("change", measure.change),
        )
        if value is not None
    ]
    if measure.meaningful is not None:
        components.append({"code": part("meaningful"), "valueBoolean": measure.meaningful})
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": observation_id,
        "status": "final",
        "code": {
            "coding": [
                {
                    "system": systems.OUTCOME_MEASURE,
                    "code": measure.instrument,
                    "display": measure.title,
                }
            ],
            "text": measure.title,
        },
    }
    if components:
        observation["component"] = components
    if measure.direction is not None:
        coding = INTERPRETATION_CODE.get(measure.direction)
        observation["interpretation"] = [
            {"coding": [{"system": INTERPRETATION, "code": coding}], "text": measure.direction}
            if coding
            else {"text": measure.direction}
        ]
    return observation


def _patient(person: Person) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "patient",
        "identifier": [{"system": systems.NHS_NUMBER, "value": person.nhs_number}],
        "name": [{"family": person.family_name, "given": [person.given_name]}],
        "birthDate": person.birth_date.isoformat(),
        "address": [{"postalCode": person.postcode}],
    }
    if person.address:
        patient["address"][0]["line"] = [person.address]
    telecom = [
        {"system": kind, "value": value}
        for kind, value in (("phone", person.phone), ("email", person.email))
        if value
    ]
    if telecom:
        patient["telecom"] = telecom
    return patient


def _consent(referral: Referral, consent: Consent | None) -> dict[str, Any]:
    organisations, gp = sharing(consent)
    scopes = [
        (systems.SHARE_REASON, organisations == OrganisationSharing.CONTACT_AND_REASON),
        (systems.OUTCOME_DETAILS, gp == GpOutcomeSharing.DETAILS),
    ]
    withdrawn = referral.closure_reason == ClosureReason.CONSENT_WITHDRAWN
    return {
        "resourceType": "Consent",
        "id": "consent",
        "status": "inactive" if withdrawn else "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": "#patient"},
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
            ]
        },
        "provision": {
            "type": "permit",
            "provision": [
                {
                    "type": "permit" if allowed else "deny",
                    "code": [{"coding": [{"system": systems.CONSENT_SCOPE, "code": code}]}],
                }
                for code, allowed in scopes
            ],
        },
    }


def _ods(ods_code: str) -> dict[str, Any]:
    return {"identifier": {"system": systems.ODS_ORGANISATION, "value": ods_code}}


def _snomed(code: str) -> dict[str, Any]:
    return {"coding": [{"system": systems.SNOMED, "code": code, "display": SNOMED_DISPLAY[code]}]}


def _need(code: str) -> str:
    return SOCIAL_PRESCRIBING_TERMS.get(code, code)


def _instant(moment: Any) -> str:
    return str(moment.isoformat())


def _checked(model: Any, resource: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = model.model_validate(resource).model_dump(
        mode="json", exclude_none=True
    )
    return checked
