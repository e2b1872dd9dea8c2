"""The organisation's view of a referral to one of its services, trimmed by consent."""

from sqlmodel import Session

from api.schemas import ServiceReferralForOrganisation
from domain.consent import for_organisation
from domain.tables import Consent, Person, Referral, ServiceReferral


def organisation_view(
    session: Session, service_referral: ServiceReferral
) -> ServiceReferralForOrganisation:
    referral = session.get(Referral, service_referral.referral_id)
    person = session.get(Person, service_referral.referral_id)
    assert referral is not None and person is not None, "service referrals follow their referral"
    return ServiceReferralForOrganisation(
        id=service_referral.id,
        service_id=service_referral.service_id,
        organisation_id=service_referral.organisation_id,
        status=service_referral.status,
        sent_at=service_referral.sent_at,
        respond_by=service_referral.respond_by,
        need_codes=referral.need_codes,
        **for_organisation(person, session.get(Consent, referral.id)),
    )
