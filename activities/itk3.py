"""ITK3 FHIR STU3 messages for GP Connect "Send Document": the message that carries the PDF
to the practice, and the ITK3 responses (acknowledgements) that come back.

Identifiers are derived from the outbox message's dedupe key, so a message sent again after a
crash carries the same ITK3 ids and the receiving system can recognise it as a duplicate
(ITK3 response code 20007).
"""

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from fhir.resources.STU3.bundle import Bundle

from domain.codes import REFERRAL_TO_SOCIAL_PRESCRIBING, SNOMED_DISPLAY

WORKFLOW_ID = "GPFED_CONSULT_REPORT"
ACK_WORKFLOW_ID = "GPFED_CONSULT_REPORT_ACK"

FHIR_NHS = "https://fhir.nhs.uk/STU3"
MESSAGE_HANDLING = f"{FHIR_NHS}/StructureDefinition/Extension-ITK-MessageHandling-2"
MESSAGE_EVENT_SYSTEM = f"{FHIR_NHS}/CodeSystem/ITK-MessageEvent-2"
RESPONSE_CODES_SYSTEM = f"{FHIR_NHS}/CodeSystem/ITK-ResponseCodes-1"
SEND_DOCUMENT_EVENT = {
    "system": MESSAGE_EVENT_SYSTEM,
    "code": "ITK007C",
    "display": "ITK GP Connect Send Document",
}
RESPONSE_EVENT_CODE = "ITK008M"
SEND_DOCUMENT_DEFINITION = (
    f"{FHIR_NHS}/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-Instance-1"
)
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
# "Success" at the infrastructure level; business responses use 3xxxx codes.
INFRASTRUCTURE_SUCCESS = "20013"

_NAMESPACE = uuid5(NAMESPACE_URL, "https://github.com/socialrx/itk3")


def message_ids(dedupe_key: str) -> dict[str, UUID]:
    """The ITK3 ids of one outbox message: the same every time it is sent."""
    return {
        part: uuid5(_NAMESPACE, f"{dedupe_key}:{part}")
        for part in ("bundle", "header", "task", "document", "binary")
    }


def send_document(
    dedupe_key: str, payload: dict[str, Any], pdf: bytes, sender_mailbox: str, at: datetime
) -> bytes:
    """The ITK3 message Bundle (JSON) carrying the PDF: MessageHeader, Task,
    DocumentReference and Binary. Validated as STU3 before it leaves."""
    ids = message_ids(dedupe_key)
    urn = {part: f"urn:uuid:{value}" for part, value in ids.items()}
    patient = {"identifier": {"system": NHS_NUMBER_SYSTEM, "value": payload["nhs_number"]}}
    practice = {"identifier": {"system": ODS_SYSTEM, "value": payload["practice_ods"]}}
    title = "Social prescribing: outcome of referral"
    header = {
        "resourceType": "MessageHeader",
        "id": str(ids["header"]),
        "meta": {"profile": [f"{FHIR_NHS}/StructureDefinition/ITK-MessageHeader-2"]},
        "extension": [
            {
                "url": MESSAGE_HANDLING,
                "extension": [
                    {"url": "BusAckRequested", "valueBoolean": True},
                    {"url": "InfAckRequested", "valueBoolean": True},
                    {
                        "url": "RecipientType",
                        "valueCoding": {
                            "system": f"{FHIR_NHS}/CodeSystem/ITK-RecipientType-1",
                            "code": "FA",
                            "display": "For Action",
                        },
                    },
                    {
                        "url": "MessageDefinition",
                        "valueReference": {"reference": SEND_DOCUMENT_DEFINITION},
                    },
                    {"url": "SenderReference", "valueString": urn["document"]},
                    {"url": "LocalExtension", "valueString": "None"},
                ],
            }
        ],
        "event": SEND_DOCUMENT_EVENT,
        "source": {"endpoint": sender_mailbox},
        "timestamp": at.isoformat(),
        "focus": [{"reference": urn["task"]}],
    }
    task = {
        "resourceType": "Task",
        "id": str(ids["task"]),
        "status": "requested",
        "intent": "order",
        "description": "File the social prescribing outcome in the patient's record",
        "code": {
            "coding": [
                {
                    "system": SNOMED,
                    "code": REFERRAL_TO_SOCIAL_PRESCRIBING,
                    "display": SNOMED_DISPLAY[REFERRAL_TO_SOCIAL_PRESCRIBING],
                }
            ]
        },
        "for": patient,
        "owner": practice,
        "authoredOn": at.isoformat(),
        "input": [{"type": {"text": title}, "valueReference": {"reference": urn["document"]}}],
    }
    closure = payload["snomed"]
    document = {
        "resourceType": "DocumentReference",
        "id": str(ids["document"]),
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": urn["document"]},
        "status": "current",
        "type": {
            "coding": [{"system": SNOMED, "code": closure["code"], "display": closure["display"]}],
            "text": title,
        },
        "subject": patient,
        "indexed": at.isoformat(),
        "description": title,
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "url": urn["binary"],
                    "title": f"{title}.pdf",
                    "creation": at.isoformat(),
                }
            }
        ],
    }
    binary = {
        "resourceType": "Binary",
        "id": str(ids["binary"]),
        "contentType": "application/pdf",
        "content": base64.b64encode(pdf).decode("ascii"),
    }
    bundle = {
        "resourceType": "Bundle",
        "id": str(ids["bundle"]),
        "meta": {"profile": [f"{FHIR_NHS}/StructureDefinition/ITK-Message-Bundle-1"]},
        "identifier": {"value": str(ids["bundle"])},
        "type": "message",
        "entry": [
            {"fullUrl": urn[part], "resource": resource}
            for part, resource in (
                ("header", header),
                ("task", task),
                ("document", document),
                ("binary", binary),
            )
        ],
    }
    Bundle.model_validate(bundle)
    return json.dumps(bundle).encode()


class AckLevel(StrEnum):
    INFRASTRUCTURE = "infrastructure"
    BUSINESS = "business"


@dataclass(frozen=True)
class ItkResponse:
    """One ITK3 response: which message it answers, at which level, and how."""

    answers_message_id: str
    level: AckLevel
    code: str
    """The ITK3 response code, e.g. 20013 (infrastructure success), 30001 (patient known)."""
    ok: bool


class NotAnItkResponse(ValueError):
    """A message in our inbox that is not an ITK3 response we can read."""


def parse_response(body: bytes) -> ItkResponse:
    """Read an ITK3 response Bundle: the MessageHeader's response and the OperationOutcome's
    ITK3 response code (1xxxx and 2xxxx: infrastructure; 3xxxx: business)."""
    try:
        bundle = Bundle.model_validate_json(body)
    except ValueError as error:
        raise NotAnItkResponse("not a FHIR STU3 Bundle") from error
    resources = [entry.resource for entry in bundle.entry or [] if entry.resource is not None]
    header = next((r for r in resources if r.get_resource_type() == "MessageHeader"), None)
    if header is None or header.response is None:  # type: ignore[attr-defined]
        raise NotAnItkResponse("no MessageHeader with a response")
    if header.event.code != RESPONSE_EVENT_CODE:  # type: ignore[attr-defined]
        raise NotAnItkResponse("the MessageHeader's event is not an ITK3 response")
    response = header.response  # type: ignore[attr-defined]
    codes = [
        coding.code
        for resource in resources
        if resource.get_resource_type() == "OperationOutcome"
        for issue in resource.issue or []  # type: ignore[attr-defined]
        if issue.details is not None
        for coding in issue.details.coding or []
        if coding.system == RESPONSE_CODES_SYSTEM and coding.code
    ]
    if not codes:
        raise NotAnItkResponse("no ITK3 response code")
    code = codes[0]
    level = AckLevel.BUSINESS if code.startswith("3") else AckLevel.INFRASTRUCTURE
    return ItkResponse(
        answers_message_id=str(response.identifier),
        level=level,
        code=code,
        ok=response.code == "ok",
    )
