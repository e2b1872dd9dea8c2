"""Loading the objects a route acts on, or answering 404."""

from uuid import UUID

from fastapi import HTTPException, status
from sqlmodel import Session

from domain.tables import Referral, ServiceReferral


def referral_or_404(session: Session, referral_id: UUID) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No referral {referral_id}.")
    return referral


def service_referral_or_404(session: Session, service_referral_id: UUID) -> ServiceReferral:
    service_referral = session.get(ServiceReferral, service_referral_id)
    if service_referral is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No service referral {service_referral_id}."
        )
    return service_referral
