"""A small service whose figures are worked out by hand in the tests.

Practice A81001 (team millbrook-pcn), 10 referrals on 10 January 2026, needs sp-arts:
  2 never reached (unable_to_contact), 2 reached then declined, 1 connected with no uptake
  (no_suitable_service), 5 took up, were followed up and completed.
  First contact attempts 1..10 days after referral.
  The 6 connected went to svc-health-walks; Millbrook Leisure Trust answered in 1..6 days.
Practice A81002, 3 open referrals on 1 March 2026, needs sp-money, nothing else yet.
Practice X99001 of team elsewhere-pcn, 1 open referral on 10 January 2026.
Outcomes of the 5 followed up (most recent checkpoint):
  Well-being Star: 4 improved in some area (money: all 4, lifestyle: 2 of them), 1 did not.
  SWEMWBS metric change 1, 2, 3, 4, 5 (meaningful at >= 3: 3 people).
  Service use: each had 3 GP consultations and 1 A&E attendance before (20 contacts in all);
  after, GP 1, 1, 1, 0, 0 and A&E 0, 0, 0, 0, 1 (4 contacts): -80%. GP fell for all 5 (by
  2, 2, 2, 3, 3: mean 2.4), A&E for 4 (mean 0.8); outpatient and inpatient stayed at 0.
"""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlmodel import Session

from activities.report_facts import change_row
from catalogue.demo import load_demo_directory
from domain.enums import ClosureReason, ReferralStatus, ServiceReferralStatus
from domain.measures import DEFAULT_THRESHOLDS
from domain.messages import MeasureAnswers
from domain.report_tables import OutcomeChange, ReferralMilestone
from domain.tables import LinkWorker, LinkWorkerTeam, Practice, Referral, ServiceReferral
from socialrx.demo import load_demo_people

JANUARY = datetime(2026, 1, 10, 9, tzinfo=UTC)
MARCH = datetime(2026, 3, 1, 9, tzinfo=UTC)
DAY = timedelta(days=1)
WALKS, LEISURE_TRUST = "svc-health-walks", "org-millbrook-leisure-trust"
# (closure, stages reached after referral) for the ten A81001 referrals.
PATHS = (
    [(ClosureReason.UNABLE_TO_CONTACT, 0)] * 2
    + [(ClosureReason.DECLINED, 1)] * 2
    + [(ClosureReason.NO_SUITABLE_SERVICE, 3)]
    + [(ClosureReason.COMPLETED, 5)] * 5
)
STAGES = ("contacted_at", "assessed_at", "connected_at", "took_up_at", "followed_up_at")
# (GP consultations, A&E attendances) after, for the five followed up; 3 and 1 before.
SERVICE_USE_AFTER = ((1, 0), (1, 0), (1, 0), (0, 0), (0, 1))


def referral(
    session: Session, practice: str, team: str, at: datetime, needs: str, worker: str
) -> ReferralMilestone:
    referral_id = uuid4()
    session.add(Referral(id=referral_id, practice_ods=practice, created_at=at,
                         link_worker_id=worker, status=ReferralStatus.CONTACTING))  # fmt: skip
    session.flush()
    milestone = ReferralMilestone(
        referral_id=referral_id,
        practice_ods=practice,
        team_id=team,
        referred_at=at,
        need_codes=needs,
        link_worker_id=worker,
    )
    session.add(milestone)
    return milestone


def change(referral_id: UUID, instrument: str, **fields: Any) -> OutcomeChange:
    return OutcomeChange(referral_id=referral_id, checkpoint="follow_up_2", instrument=instrument,
                         has_baseline=True, recorded_at=MARCH, **fields)  # fmt: skip


def service_use(gp: int, ae: int) -> MeasureAnswers:
    return MeasureAnswers(instrument="service_use", answers={
        "gp_consultations": gp, "ae_attendances": ae,
        "outpatient_appointments": 0, "inpatient_stays": 0,
    })  # fmt: skip


def service_use_change(referral_id: UUID, after: tuple[int, int]) -> OutcomeChange:
    """Stored as the workflow stores it: totals are the contacts before and after."""
    return change_row(referral_id, "follow_up_2", service_use(3, 1), service_use(*after),
                      MARCH, DEFAULT_THRESHOLDS)  # fmt: skip


def load_demo_and_elsewhere(session: Session) -> None:
    """The demo people and directory, and team elsewhere-pcn: practice X99001, lw-elsewhere."""
    load_demo_people(session)
    load_demo_directory(session)
    session.add(LinkWorkerTeam(id="elsewhere-pcn", name="Elsewhere"))
    session.flush()
    session.add(Practice(ods_code="X99001", name="Elsewhere Surgery", team_id="elsewhere-pcn"))
    session.add(LinkWorker(id="lw-elsewhere", name="Dee Elsewhere", team_id="elsewhere-pcn"))
    session.flush()


def load_known_service(session: Session) -> None:
    load_demo_and_elsewhere(session)
    completed = 0
    for number, (closure, depth) in enumerate(PATHS, start=1):
        m = referral(session, "A81001", "millbrook-pcn", JANUARY, ",sp-arts,", "lw-amira")
        m.first_attempt_at = JANUARY + number * DAY
        for stage in STAGES[:depth]:
            setattr(m, stage, JANUARY + 20 * DAY)
        m.follow_up_due = depth == 5
        m.closure_reason, m.closed_at = closure, JANUARY + 60 * DAY
        if depth >= 3:
            took_up = depth == 5
            session.add(ServiceReferral(
                id=uuid4(), referral_id=m.referral_id, service_id=WALKS,
                organisation_id=LEISURE_TRUST, sent_at=JANUARY, respond_by=JANUARY + 14 * DAY,
                # Answers after 1..5 days for those who started, 6 days for the one declined.
                responded_at=JANUARY + (completed + 1 if took_up else 6) * DAY,
                status=ServiceReferralStatus.STARTED if took_up
                else ServiceReferralStatus.DECLINED,
            ))  # fmt: skip
        if depth == 5:
            completed += 1
            improved = completed <= 4
            areas = {"money": 1 if improved else 0, "lifestyle": 1 if completed <= 2 else 0}
            session.add(change(m.referral_id, "wellbeing_star", improved_any=improved,
                               item_improvement=areas))  # fmt: skip
            session.add(change(m.referral_id, "swemwbs", total_improvement=float(completed),
                               meaningful=completed >= 3))  # fmt: skip
            session.add(service_use_change(m.referral_id, SERVICE_USE_AFTER[completed - 1]))
    for _ in range(3):
        referral(session, "A81002", "millbrook-pcn", MARCH, ",sp-money,", "lw-ben")
    referral(session, "X99001", "elsewhere-pcn", JANUARY, ",sp-arts,", "lw-elsewhere")
    session.commit()
