"""What consent lets each party see. Pure functions over rows the caller has loaded, so
the organisation's view (API) and the outbox messages (activities) apply the same rules."""

from typing import Any

from domain.enums import GpOutcomeSharing, OrganisationSharing
from domain.tables import Consent, Person

# Referrals made before consent choices were recorded share the least.
LEAST_SHARING = (OrganisationSharing.CONTACT_ONLY, GpOutcomeSharing.CODES_ONLY)


def sharing(consent: Consent | None) -> tuple[OrganisationSharing, GpOutcomeSharing]:
    if consent is None:
        return LEAST_SHARING
    return consent.share_with_organisations, consent.outcome_to_gp


def for_organisation(person: Person, consent: Consent | None) -> dict[str, Any]:
    """The minimum an organisation needs to reach the person, and the GP's reason only if the
    person agreed to share it."""
    view: dict[str, Any] = {
        "person": {
            "given_name": person.given_name,
            "family_name": person.family_name,
            "phone": person.phone,
            "email": person.email,
            "address": person.address,
            "postcode": person.postcode,
        },
        "reason": None,
    }
    if sharing(consent)[0] == OrganisationSharing.CONTACT_AND_REASON:
        view["reason"] = person.reason
    return view


def outcome_details_for_gp(consent: Consent | None) -> bool:
    """Whether the services taken up and the measures may go back to the GP, or only codes."""
    return sharing(consent)[1] == GpOutcomeSharing.DETAILS


# What a step's timeline entry may still say when only codes go back to the GP: statuses,
# closure reasons and the link worker's own steps. Anything else (the services connected or
# suggested, which service referral a step was about, an organisation's reason code) names
# the services and organisations involved, so it is left out; a key added later is left out
# too until it is listed here.
CODES_ONLY_TIMELINE_DETAIL = frozenset(
    {"status", "closure_reason", "person_accepted", "checkpoint", "method", "reached", "from"}
)
WITHHELD = "withheld"
"""Stands in for the id of an organisation the GP may not be told about."""


def codes_only_detail(detail: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in detail.items() if key in CODES_ONLY_TIMELINE_DETAIL}
