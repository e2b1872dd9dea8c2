"""A GP system's FHIR referral, read into the same submission the JSON API takes.

Accepted: a ServiceRequest with a contained Patient (and Consent), or a transaction Bundle
with ServiceRequest, Patient and Consent entries. The requester is the practice's ODS code;
the needs are codings of our taxonomy in ``reasonCode``; the GP's words are the text of the
reasons (and any notes). What is not a referral we can act on (a status other than active,
an intent other than an order, a code that is not a social prescribing referral) is refused,
never rewritten.
"""

from typing import Any, NamedTuple

from fastapi import status
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from api.fhir import systems
from api.fhir.errors import FIELD_PATHS, FhirError
from api.schemas import ReferralSubmission
from domain.codes import SOCIAL_PRESCRIBING_REFERRAL_CODES
from domain.enums import GpOutcomeSharing, OrganisationSharing, PreferredContact

Resource = Any  # a fhir.resources model: they share no useful base type for mypy

# UK Core PreferredContactMethod codes as our preferred contact. Visit and sign language are
# arranged by the link worker by phone; "no telephone contact" leaves writing, so a letter.
UK_CORE_CONTACT_METHODS = {
    "1": PreferredContact.LETTER,
    "2": PreferredContact.PHONE,
    "3": PreferredContact.PHONE,
    "4": PreferredContact.EMAIL,
    "5": PreferredContact.PHONE,
    "6": PreferredContact.PHONE,
    "7": PreferredContact.PHONE,
    "8": PreferredContact.LETTER,
    "9": PreferredContact.TEXT,
}
# Without that extension, the best-ranked ContactPoint says how to reach the person.
TELECOM_CONTACT_METHODS = {
    "sms": PreferredContact.TEXT,
    "email": PreferredContact.EMAIL,
    "phone": PreferredContact.PHONE,
}


# ServiceRequest.intent codes a referral may have: the GP's order. A proposal, plan or
# directive asks for nothing yet; reflex, filler and instance orders are made by whoever
# fulfils an order, and an option is not a request at all.
REFERRAL_INTENTS = ("order", "original-order")
REQUEST_PRIORITIES = ("routine", "urgent", "asap", "stat")
# The ServiceRequest's elements a read-back returns as sent.
KEPT_AS_SENT = ("category", "priority", "authoredOn")


class FhirReferral(NamedTuple):
    submission: ReferralSubmission
    elements: dict[str, Any]
    """The ServiceRequest's ``category``, ``priority``, ``authoredOn`` and ``meta.profile``
    (as ``profile``), as sent; absent ones are left out."""
    transaction_entries: list[str] | None
    """For a transaction Bundle, each entry's resource type in order; None otherwise."""


def submission_from(body: object) -> ReferralSubmission:
    return referral_from(body).submission


def referral_from(body: object) -> FhirReferral:
    if not isinstance(body, dict):
        raise _invalid("the body must be a FHIR resource (a JSON object)", None)
    kind = body.get("resourceType")
    entry_types: list[str] | None = None
    if kind == "ServiceRequest":
        request = _parse(ServiceRequest, body)
        found = _Found(contained=request.contained or [], entries={})
        sent = body
    elif kind == "Bundle":
        bundle = _parse(Bundle, body)
        if bundle.type != "transaction":
            raise _invalid("a Bundle must be of type transaction", "Bundle.type")
        entries = {e.fullUrl: e.resource for e in bundle.entry or [] if e.resource is not None}
        requests = [r for r in entries.values() if r.get_resource_type() == "ServiceRequest"]
        if len(requests) != 1:
            raise _invalid("the Bundle must hold exactly one ServiceRequest", "Bundle.entry")
        request = requests[0]
        found = _Found(contained=request.contained or [], entries=entries)
        raw_entries = [e.get("resource") or {} for e in body.get("entry") or []]
        sent = next(r for r in raw_entries if r.get("resourceType") == "ServiceRequest")
        entry_types = [str(r.get("resourceType")) for r in raw_entries]
    else:
        raise _invalid("resourceType must be ServiceRequest or Bundle", "resourceType")
    _refuse_unless_a_referral(request)
    elements = {key: sent[key] for key in KEPT_AS_SENT if key in sent}
    # Kept and returned as written, so written as FHIR JSON says: the model would have
    # taken a number for a dateTime (as seconds since 1970).
    if not isinstance(elements.get("authoredOn", ""), str):
        raise FhirError.one(
            status.HTTP_400_BAD_REQUEST,
            "ServiceRequest.authoredOn: must be a dateTime string such as 2026-03-14T09:30:00Z",
            "ServiceRequest.authoredOn",
        )
    profiles = (sent.get("meta") or {}).get("profile")
    if profiles:
        elements["profile"] = profiles
    return FhirReferral(_submission(request, found), elements, entry_types)


def _refuse_unless_a_referral(request: ServiceRequest) -> None:
    """Refuse what is not a live order for social prescribing, rather than act on it."""
    if request.status != "active":
        raise _invalid(
            f"status must be active to refer; {request.status} is not a request to act on",
            "ServiceRequest.status",
        )
    if request.intent not in REFERRAL_INTENTS:
        raise _invalid(
            f"intent must be one of {', '.join(REFERRAL_INTENTS)} to refer, not {request.intent}",
            "ServiceRequest.intent",
        )
    # Bound to FHIR's request-priority codes (required), which the model does not check.
    if request.priority is not None and request.priority not in REQUEST_PRIORITIES:
        raise _invalid(
            f"priority must be one of {', '.join(REQUEST_PRIORITIES)}", "ServiceRequest.priority"
        )
    codings = request.code.coding or [] if request.code is not None else []
    if not any(
        c.system == systems.SNOMED and c.code in SOCIAL_PRESCRIBING_REFERRAL_CODES for c in codings
    ):
        raise _invalid(
            "code must be a social prescribing referral: SNOMED CT "
            + ", ".join(sorted(SOCIAL_PRESCRIBING_REFERRAL_CODES))
            + " (Referral to social prescribing service)",
            "ServiceRequest.code",
        )


class _Found:
    """Resolves references: ``#id`` to contained resources, anything else to Bundle entries
    by fullUrl or by ``Type/id``."""

    def __init__(self, contained: list[Resource], entries: dict[str | None, Resource]) -> None:
        self.contained = contained
        self.entries = entries

    def resolve(self, reference: Reference | None, kind: str) -> Resource | None:
        if reference is None or not reference.reference:
            return None
        target = reference.reference
        candidates = (
            [r for r in self.contained if f"#{r.id}" == target]
            if target.startswith("#")
            else [
                r
                for url, r in self.entries.items()
                if url == target or f"{r.get_resource_type()}/{r.id}" == target
            ]
        )
        return next((r for r in candidates if r.get_resource_type() == kind), None)

    def only(self, kind: str) -> Resource | None:
        every = list(self.contained) + list(self.entries.values())
        matching = [r for r in every if r.get_resource_type() == kind]
        if len(matching) > 1:
            raise _invalid(f"send one {kind}, not {len(matching)}", kind)
        return matching[0] if matching else None


def _submission(request: ServiceRequest, found: _Found) -> ReferralSubmission:
    patient: Patient | None = found.resolve(request.subject, "Patient")
    if patient is None:
        raise _invalid(
            "subject must reference a contained Patient (#id) or a Patient in the Bundle",
            "ServiceRequest.subject",
        )
    consent: Consent | None = found.only("Consent")
    if consent is None:
        raise _invalid(
            "a Consent is needed: active if the person agreed, with provisions saying what "
            "may be shared",
            "Consent",
        )
    fields: dict[str, Any] = {
        "practice_ods": _requester_ods(request, found),
        "reason": "\n".join(_reason_texts(request)),
        "need_codes": [
            coding.code
            for concept in request.reasonCode or []
            for coding in concept.coding or []
            if coding.system == systems.NEED
        ],
        **_patient_fields(patient),
        **_consent_fields(consent),
    }
    try:
        return ReferralSubmission.model_validate(fields)
    except ValidationError as error:
        raise FhirError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [
                (
                    f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}",
                    FIELD_PATHS.get(str(problem["loc"][0]) if problem["loc"] else ""),
                )
                for problem in error.errors()
            ],
        ) from None


def _requester_ods(request: ServiceRequest, found: _Found) -> str | None:
    requester = request.requester
    if requester is not None and requester.identifier is not None:
        identifiers = [requester.identifier]
    else:
        organisation: Organization | None = found.resolve(requester, "Organization")
        identifiers = organisation.identifier or [] if organisation is not None else []
    for identifier in identifiers:
        if identifier.system == systems.ODS_ORGANISATION and identifier.value:
            return str(identifier.value)
    raise _invalid(
        f"requester must be the practice's Organization, identified by {systems.ODS_ORGANISATION}",
        "ServiceRequest.requester",
    )


def _reason_texts(request: ServiceRequest) -> list[str]:
    texts = [concept.text for concept in request.reasonCode or [] if concept.text]
    return texts + [note.text for note in request.note or [] if note.text]


def _patient_fields(patient: Patient) -> dict[str, Any]:
    nhs_numbers = [i.value for i in patient.identifier or [] if i.system == systems.NHS_NUMBER]
    name = patient.name[0] if patient.name else None
    address = patient.address[0] if patient.address else None
    # Best rank first (1 is the most preferred; no rank comes after any rank), else as sent.
    telecom = sorted(
        (t for t in patient.telecom or [] if t.value and t.system in TELECOM_CONTACT_METHODS),
        key=lambda t: t.rank if t.rank is not None else float("inf"),
    )
    phones = [t.value for t in telecom if t.system in ("phone", "sms")]
    emails = [t.value for t in telecom if t.system == "email"]
    preferred = _uk_core_contact_method(patient) or (
        TELECOM_CONTACT_METHODS[str(telecom[0].system)] if telecom else None
    )
    return {
        "nhs_number": nhs_numbers[0] if nhs_numbers else None,
        "given_name": " ".join(g for g in name.given or [] if g) if name else None,
        "family_name": name.family if name else None,
        "birth_date": patient.birthDate,
        "postcode": address.postalCode if address else None,
        "address": ", ".join(line for line in address.line if line)
        if address and address.line
        else None,
        "phone": phones[0] if phones else None,
        "email": emails[0] if emails else None,
        **({"preferred_contact": preferred} if preferred is not None else {}),
    }


def _uk_core_contact_method(patient: Patient) -> PreferredContact | None:
    """The method in UK Core's ContactPreference extension, if given with a known code."""
    for extension in patient.extension or []:
        if extension.url != systems.UK_CORE_CONTACT_PREFERENCE:
            continue
        for part in extension.extension or []:
            concept = part.valueCodeableConcept
            if part.url != "PreferredContactMethod" or concept is None:
                continue
            for coding in concept.coding or []:
                if coding.system == systems.UK_CORE_PREFERRED_CONTACT_METHOD:
                    method = UK_CORE_CONTACT_METHODS.get(str(coding.code))
                    if method is not None:
                        return method
    return None


def _consent_fields(consent: Consent) -> dict[str, Any]:
    permitted = {
        coding.code
        for provision in (consent.provision.provision or [] if consent.provision else [])
        if provision.type == "permit"
        for concept in provision.code or []
        for coding in concept.coding or []
        if coding.system == systems.CONSENT_SCOPE
    }
    return {
        "consent_given": consent.status == "active",
        "share_with_organisations": OrganisationSharing.CONTACT_AND_REASON
        if systems.SHARE_REASON in permitted
        else OrganisationSharing.CONTACT_ONLY,
        "outcome_to_gp": GpOutcomeSharing.DETAILS
        if systems.OUTCOME_DETAILS in permitted
        else GpOutcomeSharing.CODES_ONLY,
        "contact_consent": systems.MESSAGES_TO_PERSON in permitted,
    }


def _parse(model: Any, body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        issues: list[tuple[str, str | None]] = []
        for problem in error.errors()[:20]:
            path = element_path(body, problem["loc"])
            issues.append((f"{path}: {problem['msg']}", path))
        raise FhirError(status.HTTP_400_BAD_REQUEST, issues) from None
    except (ValueError, TypeError, LookupError) as error:
        raise FhirError(status.HTTP_400_BAD_REQUEST, [(str(error), None)]) from None


def element_path(body: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """The FHIRPath of the element a validation error is about, named from the resource it is
    in: ``("entry", 0, "resource", "authoredOn")`` of a Bundle whose first entry is a
    ServiceRequest is ``ServiceRequest.authoredOn``; list indexes are kept, ``name[0].given``."""
    path = str(body.get("resourceType") or "Resource")
    node: Any = body
    for step in loc:
        node = _child(node, step)
        path += f"[{step}]" if isinstance(step, int) else f".{step}"
        if isinstance(node, dict) and isinstance(node.get("resourceType"), str):
            path = node["resourceType"]  # a contained or entry resource
    return path


def _child(node: Any, step: int | str) -> Any:
    if isinstance(step, int):
        return node[step] if isinstance(node, list) and step < len(node) else None
    return node.get(step) if isinstance(node, dict) else None


def _invalid(diagnostics: str, expression: str | None) -> FhirError:
    return FhirError.one(status.HTTP_422_UNPROCESSABLE_CONTENT, diagnostics, expression)
