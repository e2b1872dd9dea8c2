"""Five referrals that every report filter splits: each filter keeps some of every report's
figures and drops others. Figures are worked out by hand in test_filters.py.

Teams: millbrook-pcn covers practices A81001 and A81002; elsewhere-pcn covers X99001.
Organisations: Millbrook Leisure Trust runs svc-health-walks (walks); Millbrook Advice
Centre runs svc-benefits-advice (benefits). First contact is in days after the referral,
an answer in days after sending.

     practice  team       referred  needs     worker        first  sent to (answer, status)
  R1 A81001    millbrook  10 Jan    sp-arts   lw-amira      1      walks (1, started)
  R2 A81001    millbrook   1 Mar    sp-money  lw-amira      2      benefits (2, started)
  R3 A81002    millbrook  10 Jan    sp-money  lw-ben        4      benefits (3, started),
                                                                   walks (4, declined)
  R4 X99001    elsewhere  10 Jan    sp-arts   lw-elsewhere  8      walks (5, started)
  R5 X99001    elsewhere   1 Mar    sp-arts   lw-elsewhere  16     -

R1-R4 reached every stage to follow-up (due and done), with SWEMWBS change +1, +2, +4, +8;
R1, R2 and R4 closed completed, R3 is still open. R5 was contacted, then closed declined.
R3 was sent to both organisations: filtered by one, its figures at the other must not come
in.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from sqlmodel import Session

from domain.enums import ClosureReason, ServiceReferralStatus
from domain.tables import ServiceReferral
from tests.support.known_data import (
    DAY,
    JANUARY,
    LEISURE_TRUST,
    MARCH,
    STAGES,
    WALKS,
    change,
    load_demo_and_elsewhere,
    referral,
)

BENEFITS, ADVICE_CENTRE = "svc-benefits-advice", "org-millbrook-advice-centre"


@dataclass(frozen=True)
class Sent:
    service: str
    organisation: str
    answered_after: int
    status: ServiceReferralStatus


@dataclass(frozen=True)
class Row:
    practice: str
    team: str
    referred: datetime
    needs: str
    worker: str
    first_attempt_after: int
    sent: tuple[Sent, ...]
    closure: ClosureReason | None
    swemwbs_change: float | None


STARTED, DECLINED = ServiceReferralStatus.STARTED, ServiceReferralStatus.DECLINED
MILLBROOK = "millbrook-pcn"
ELSEWHERE = "elsewhere-pcn"
REFERRALS = (
    Row("A81001", MILLBROOK, JANUARY, ",sp-arts,", "lw-amira", 1,
        (Sent(WALKS, LEISURE_TRUST, 1, STARTED),), ClosureReason.COMPLETED, 1.0),
    Row("A81001", MILLBROOK, MARCH, ",sp-money,", "lw-amira", 2,
        (Sent(BENEFITS, ADVICE_CENTRE, 2, STARTED),), ClosureReason.COMPLETED, 2.0),
    Row("A81002", MILLBROOK, JANUARY, ",sp-money,", "lw-ben", 4,
        (Sent(BENEFITS, ADVICE_CENTRE, 3, STARTED), Sent(WALKS, LEISURE_TRUST, 4, DECLINED)),
        None, 4.0),
    Row("X99001", ELSEWHERE, JANUARY, ",sp-arts,", "lw-elsewhere", 8,
        (Sent(WALKS, LEISURE_TRUST, 5, STARTED),), ClosureReason.COMPLETED, 8.0),
    Row("X99001", ELSEWHERE, MARCH, ",sp-arts,", "lw-elsewhere", 16,
        (), ClosureReason.DECLINED, None),
)  # fmt: skip


def load_filter_service(session: Session) -> None:
    load_demo_and_elsewhere(session)
    for row in REFERRALS:
        m = referral(session, row.practice, row.team, row.referred, row.needs, row.worker)
        m.first_attempt_at = row.referred + row.first_attempt_after * DAY
        # Followed up (R1-R4) means every stage to follow-up; R5 was only contacted.
        reached = STAGES if row.swemwbs_change is not None else STAGES[:1]
        for stage in reached:
            setattr(m, stage, row.referred + 20 * DAY)
        m.follow_up_due = row.swemwbs_change is not None
        if row.closure is not None:
            m.closure_reason, m.closed_at = row.closure, row.referred + 60 * DAY
        for sent in row.sent:
            session.add(ServiceReferral(
                id=uuid4(), referral_id=m.referral_id, service_id=sent.service,
                organisation_id=sent.organisation, sent_at=row.referred,
                respond_by=row.referred + 14 * DAY,
                responded_at=row.referred + sent.answered_after * DAY, status=sent.status,
            ))  # fmt: skip
        if row.swemwbs_change is not None:
            session.add(change(m.referral_id, "swemwbs", total_improvement=row.swemwbs_change,
                               meaningful=row.swemwbs_change >= 3))  # fmt: skip
    session.commit()
