"""Reading a referral: its summary, where its process stands, its tasks and timeline."""

from uuid import UUID

from fastapi import APIRouter
from sqlmodel import col, select

from api.access import AccessDep
from api.consent import detail_for
from api.deps import SessionDep, TemporalDep
from api.schemas import (
    PersonOut,
    ReferralDetail,
    ReferralSummary,
    ServiceReferralOut,
    TaskOut,
    TimelineEntry,
)
from api.steps import current_state
from domain.tables import AuditEvent, Person, ServiceReferral, Task

router = APIRouter(tags=["referrals"])


@router.get(
    "/referrals/{referral_id}",
    response_model=ReferralDetail,
    summary="A referral with its tasks, service referrals and timeline",
)
async def get_referral(
    referral_id: UUID, session: SessionDep, temporal: TemporalDep, access: AccessDep
) -> ReferralDetail:
    referral = access.visible_referral_or_404(referral_id)
    person = session.get(Person, referral_id)
    tasks = session.exec(
        select(Task).where(Task.referral_id == referral_id).order_by(col(Task.id))
    ).all()
    service_referrals = session.exec(
        select(ServiceReferral)
        .where(ServiceReferral.referral_id == referral_id)
        .order_by(col(ServiceReferral.sent_at))
    ).all()
    timeline = session.exec(
        select(AuditEvent)
        .where(AuditEvent.referral_id == referral_id)
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    detail = ReferralDetail(
        **{name: getattr(referral, name) for name in ReferralSummary.model_fields},
        person=PersonOut.model_validate(person, from_attributes=True),
        state=await current_state(temporal, referral_id),
        tasks=[TaskOut.model_validate(t, from_attributes=True) for t in tasks],
        service_referrals=[
            ServiceReferralOut.model_validate(s, from_attributes=True) for s in service_referrals
        ],
        timeline=[TimelineEntry.model_validate(e, from_attributes=True) for e in timeline],
    )
    # A practice whose patient agreed to codes only does not see the services involved.
    return detail_for(access, detail)
