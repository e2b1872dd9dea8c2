"""SNOMED CT concepts used in the message back to the GP (see shared/DOMAIN.md)."""

from domain.enums import ClosureReason

REFERRAL_TO_SOCIAL_PRESCRIBING = "871731000000106"
SOCIAL_PRESCRIBING_DECLINED = "871711000000103"
# NHS guidance reports this concept; it is not confirmed against the SNOMED browser here,
# so it is only used where the person never took the referral up or down.
SOCIAL_PRESCRIBING_OFFERED = "871691000000100"

# The request codes a referral may come with: SNOMED CT concepts that ARE a referral to social
# prescribing. Only one exists in the UK edition today; the other social prescribing concepts
# (offered, declined) record what happened to a referral and are refused as a request.
SOCIAL_PRESCRIBING_REFERRAL_CODES = frozenset({REFERRAL_TO_SOCIAL_PRESCRIBING})

SNOMED_DISPLAY = {
    REFERRAL_TO_SOCIAL_PRESCRIBING: "Referral to social prescribing service (procedure)",
    SOCIAL_PRESCRIBING_DECLINED: "Social prescribing declined (situation)",
    SOCIAL_PRESCRIBING_OFFERED: "Social prescribing offered",
}


def snomed_code_for_closure(reason: ClosureReason, person_accepted: bool) -> str:
    """The concept the GP record should carry for how the referral ended.

    A person who had the "what matters" conversation accepted social prescribing, whatever
    happened later; one who said no, at any point before that, declined it.
    """
    if reason in (ClosureReason.DECLINED, ClosureReason.CONSENT_WITHDRAWN) and not person_accepted:
        return SOCIAL_PRESCRIBING_DECLINED
    if person_accepted:
        return REFERRAL_TO_SOCIAL_PRESCRIBING
    return SOCIAL_PRESCRIBING_OFFERED
