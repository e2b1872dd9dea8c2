"""A referral as ``GET /referrals/{id}`` shows it, and the practice's referral page too."""

from uuid import UUID

from sqlmodel import col, select

from activities.outcome import outcome_detail
from api.access import Access
from api.consent import detail_for, progress_of, withholds_outcome_details
from api.schemas import (
    PersonOut,
    ReferralDetail,
    ReferralSummary,
    ServiceReferralOut,
    TaskOut,
    TimelineEntry,
)
from core.db import transaction_ended
from domain.enums import ReferralStatus
from domain.measures import MeasureThresholds
from domain.messages import ReferralState
from domain.tables import AuditEvent, Person, ServiceReferral, Task


def read_referral(
    access: Access, referral_id: UUID, thresholds: MeasureThresholds
) -> ReferralDetail:
    """The referral with its tasks, service referrals, timeline and (once closed, if this
    caller may see it) its outcome; 404 unless the caller may see it. Without the workflow's
    state: ``as_seen_by`` adds it and applies consent."""
    session = access.session
    # Give the connection back before Temporal is asked where the referral stands.
    with transaction_ended(session):
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
        return ReferralDetail(
            **{name: getattr(referral, name) for name in ReferralSummary.model_fields},
            person=PersonOut.model_validate(person, from_attributes=True),
            state=None,
            tasks=[TaskOut.model_validate(t, from_attributes=True) for t in tasks],
            service_referrals=[
                ServiceReferralOut.model_validate(s, from_attributes=True)
                for s in service_referrals
            ],
            timeline=[TimelineEntry.model_validate(e, from_attributes=True) for e in timeline],
            outcome=outcome_detail(session, referral_id, thresholds)
            if referral.status == ReferralStatus.CLOSED
            and not withholds_outcome_details(access, referral_id)
            else None,
        )


def as_seen_by(
    access: Access, detail: ReferralDetail, state: ReferralState | None
) -> ReferralDetail:
    # A practice whose patient agreed to codes only does not see the services involved.
    with transaction_ended(access.session):
        progress = progress_of(state) if state is not None else None
        return detail_for(access, detail.model_copy(update={"state": progress}))
