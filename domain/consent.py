"""What consent lets each party see. Pure functions over rows the caller has loaded, so
the organisation's view (API) and the outbox messages (activities) apply the same rules."""

from typing import Any

from domain.enums import (
    ClosureReason,
    GpOutcomeSharing,
    OrganisationSharing,
    ServiceReferralStatus,
)
from domain.tables import Consent, Person

# Referrals made before consent choices were recorded share the least.
LEAST_SHARING = (OrganisationSharing.CONTACT_ONLY, GpOutcomeSharing.CODES_ONLY)


def sharing(consent: Consent | None) -> tuple[OrganisationSharing, GpOutcomeSharing]:
    if consent is None:
        return LEAST_SHARING
    return consent.share_with_organisations, consent.outcome_to_gp


# An organisation needs to reach the person only while its service referral is live: waiting
# for its answer, accepted, or started. Once it declined (or was auto-declined), the person
# did not attend, or the referral was withdrawn, it sees the status only; and the person's
# withdrawal of consent ends its access even to a service they had started.
ORGANISATION_MAY_REACH_WHILE = frozenset(
    {ServiceReferralStatus.PENDING, ServiceReferralStatus.ACCEPTED, ServiceReferralStatus.STARTED}
)


def organisation_may_reach(
    service_referral_status: ServiceReferralStatus, closure_reason: ClosureReason | None
) -> bool:
    """Whether the organisation of a service referral may see the person's contact details
    (and what else consent shares), or the status only."""
    return (
        service_referral_status in ORGANISATION_MAY_REACH_WHILE
        and closure_reason != ClosureReason.CONSENT_WITHDRAWN
    )


def for_organisation(
    person: Person, consent: Consent | None, need_codes: list[str]
) -> dict[str, Any]:
    """The minimum an organisation needs to reach the person; the GP's reason and the need
    codes only if the person agreed to share the reason. Under ``contact_only`` the codes
    are withheld too: a code such as a debt or a mental health need says as much as the
    reason in words. (Call only while ``organisation_may_reach``.)"""
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
        "need_codes": [],
    }
    if shares_reason_with_organisations(consent):
        view["reason"] = person.reason
        view["need_codes"] = need_codes
    return view


def shares_reason_with_organisations(consent: Consent | None) -> bool:
    """Whether the person agreed that organisations see why they were referred: the GP's
    reason in words and the need codes."""
    return sharing(consent)[0] == OrganisationSharing.CONTACT_AND_REASON


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
