"""The answer to a transaction Bundle: a transaction-response Bundle, as FHIR requires."""

from typing import Any

from fhir.resources.R4B.bundle import Bundle

# What became of each kind of entry besides the ServiceRequest, which is created.
NOT_CREATED = {
    "Patient": "kept as part of ServiceRequest/{id} (contained), not as a resource of its own",
    "Consent": "kept as part of ServiceRequest/{id} (contained), not as a resource of its own",
    "Organization": "the requesting practice, known here by its ODS code; not stored",
}


def transaction_response(service_request: dict[str, Any], entry_types: list[str]) -> dict[str, Any]:
    """An entry per request entry, in the same order (FHIR R4 Bundle, transaction-response)."""
    referral_id = service_request["id"]
    entries: list[dict[str, Any]] = []
    for kind in entry_types:
        if kind == "ServiceRequest":
            response = {
                "status": "201 Created",
                "location": f"ServiceRequest/{referral_id}/_history/1",
                "etag": 'W/"1"',
                "lastModified": service_request["meta"]["lastUpdated"],
            }
            entries.append({"resource": service_request, "response": response})
            continue
        note = NOT_CREATED.get(kind, "not used for a referral; not stored")
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "information",
                    "code": "informational",
                    "diagnostics": note.format(id=referral_id),
                }
            ],
        }
        entries.append({"response": {"status": "200 OK", "outcome": outcome}})
    bundle = {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}
    checked: dict[str, Any] = Bundle.model_validate(bundle).model_dump(
        mode="json", exclude_none=True
    )
    return checked
