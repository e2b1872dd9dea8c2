"""FHIR referrals as a GP system would send them, built from the driver's person bodies."""

from typing import Any

from api.fhir import systems

FHIR_HEADERS = {"Content-Type": "application/fhir+json"}


def patient(body: dict[str, Any], resource_id: str = "patient") -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": resource_id,
        "identifier": [{"system": systems.NHS_NUMBER, "value": body["nhs_number"]}],
        "name": [{"family": body["family_name"], "given": [body["given_name"]]}],
        "birthDate": body["birth_date"],
        "address": [{"line": [body["address"]], "postalCode": body["postcode"]}],
        "telecom": [
            {"system": "phone", "value": body["phone"]},
            {"system": "email", "value": body["email"]},
        ],
    }


def consent(body: dict[str, Any], patient_reference: str = "#patient") -> dict[str, Any]:
    permits = {
        systems.SHARE_REASON: body["share_with_organisations"] == "contact_and_reason",
        systems.OUTCOME_DETAILS: body["outcome_to_gp"] == "details",
    }
    return {
        "resourceType": "Consent",
        "id": "consent",
        "status": "active" if body["consent_given"] else "rejected",
        "scope": {"coding": [{"code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": patient_reference},
        "provision": {
            "type": "permit",
            "provision": [
                {
                    "type": "permit" if allowed else "deny",
                    "code": [{"coding": [{"system": systems.CONSENT_SCOPE, "code": code}]}],
                }
                for code, allowed in permits.items()
            ],
        },
    }


def service_request(
    body: dict[str, Any], subject: str = "#patient", requester: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "code": {"coding": [{"system": systems.SNOMED, "code": "871731000000106"}]},
        "subject": {"reference": subject},
        "requester": requester
        or {"identifier": {"system": systems.ODS_ORGANISATION, "value": body["practice_ods"]}},
        "reasonCode": [
            *({"coding": [{"system": systems.NEED, "code": code}]} for code in body["need_codes"]),
            {"text": body["reason"]},
        ],
    }


def contained(body: dict[str, Any]) -> dict[str, Any]:
    """A ServiceRequest holding its Patient and Consent."""
    return service_request(body) | {"contained": [patient(body), consent(body)]}


def transaction(body: dict[str, Any]) -> dict[str, Any]:
    """A transaction Bundle: ServiceRequest, Patient, Consent and the requesting practice."""
    patient_url = "urn:uuid:8a6b0f3e-0c1d-4a55-9d65-3f3c1f0e2a11"
    practice_url = "urn:uuid:2f1e0c4b-7d1a-4e0b-8a57-6c2b1d9e3f22"
    request = service_request(body, subject=patient_url, requester={"reference": practice_url})
    practice = {
        "resourceType": "Organization",
        "identifier": [{"system": systems.ODS_ORGANISATION, "value": body["practice_ods"]}],
    }
    entries = [
        ("urn:uuid:5c0d7a2e-1b3f-4c8e-9a6d-0e4f2b1c3d33", request, "ServiceRequest"),
        (patient_url, patient(body, resource_id="p1"), "Patient"),
        (practice_url, practice, "Organization"),
        (
            "urn:uuid:7e2a9c1d-3f4b-4d6e-8c0a-1b2d3e4f5a44",
            consent(body, patient_reference=patient_url),
            "Consent",
        ),
    ]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": url, "resource": resource, "request": {"method": "POST", "url": kind}}
            for url, resource, kind in entries
        ],
    }
