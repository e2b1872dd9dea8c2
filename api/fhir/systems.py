"""Identifier and code systems the FHIR resources use."""

ODS_ORGANISATION = "https://fhir.nhs.uk/Id/ods-organization-code"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
SNOMED = "http://snomed.info/sct"

_SOCIALRX = "https://socialrx.org/fhir"
REFERRAL_ID = f"{_SOCIALRX}/Id/referral"
LINK_WORKER = f"{_SOCIALRX}/Id/link-worker"
SERVICE = f"{_SOCIALRX}/Id/service"
NEED = f"{_SOCIALRX}/CodeSystem/social-prescribing-need"
"""The social prescribing taxonomy's terms, e.g. ``sp-social-groups``."""
RECEIVED_AT = f"{_SOCIALRX}/StructureDefinition/received-at"
"""Extension on a ServiceRequest: when this server received it (``authoredOn`` is the GP's)."""
BUSINESS_STATUS = f"{_SOCIALRX}/CodeSystem/referral-business-status"
"""Our finer state: a referral status, or the closure reason once closed."""
CONSENT_SCOPE = f"{_SOCIALRX}/CodeSystem/consent-scope"
SHARE_REASON = "share-reason-with-organisations"
OUTCOME_DETAILS = "outcome-details-to-gp"
OUTCOME_MEASURE = f"{_SOCIALRX}/CodeSystem/outcome-measure"
"""Instrument codes of ``domain.measures``, e.g. ``swemwbs``."""
OUTCOME_MEASURE_PART = f"{_SOCIALRX}/CodeSystem/outcome-measure-part"
"""baseline, latest, change (latest minus baseline) and meaningful."""
MESSAGES_TO_PERSON = "messages-to-person"
"""Consent scope: the person agreed to be sent texts or emails about the referral."""

# UK Core's contact preference extension on Patient, and its PreferredContactMethod codes.
UK_CORE_CONTACT_PREFERENCE = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactPreference"
)
UK_CORE_PREFERRED_CONTACT_METHOD = (
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredContactMethod"
)

SDOHCC_TEMPORARY_CODES = (
    "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
)
RESULTING_ACTIVITY = "resulting-activity"

FHIR_JSON = "application/fhir+json"
