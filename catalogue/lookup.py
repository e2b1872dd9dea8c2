"""Small look-ups other packages need: the referral "connect" step checks that a chosen
service is active and finds the organisation that will receive the referral."""

from typing import NamedTuple

from sqlmodel import Session, select

from catalogue.tables import Service


class ActiveService(NamedTuple):
    service_id: str
    organization_id: str
    name: str


def active_service(session: Session, service_id: str) -> ActiveService | None:
    """The service and its organisation if it exists and is active; link workers may choose
    any active service, suggested or not."""
    row = session.exec(
        select(Service.id, Service.organization_id, Service.name).where(
            Service.id == service_id, Service.status == "active"
        )
    ).first()
    return ActiveService(*row) if row else None
