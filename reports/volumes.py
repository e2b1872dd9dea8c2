"""Volumes by practice, and caseload per link worker."""

from pydantic import BaseModel, Field
from sqlalchemy import case, func
from sqlmodel import Session, col, select

from domain.report_tables import ReferralMilestone as M
from domain.tables import LinkWorker, Practice
from reports.filters import ReportFilter
from reports.small_numbers import Suppression, Total


class PracticeVolume(BaseModel):
    practice_ods: str
    practice_name: str
    referred: int | None
    completed_pct: float | None = Field(description="Of those referred, closed as completed.")


class Caseload(BaseModel):
    link_worker_id: str
    link_worker_name: str
    open: int | None = Field(description="Referrals not yet closed: the current caseload.")
    total: int | None = Field(description="All referrals the link worker holds or held.")


class Volumes(BaseModel):
    by_practice: list[PracticeVolume]
    caseload: list[Caseload]


def volumes(session: Session, filters: ReportFilter, small: Suppression) -> Volumes:
    completed = func.sum(case((col(M.closure_reason) == "completed", 1), else_=0))
    practices = session.execute(
        select(col(M.practice_ods), func.count(), completed)
        .where(*filters.conditions())
        .group_by(col(M.practice_ods))
        .order_by(col(M.practice_ods))
    ).all()
    still_open = func.sum(case((col(M.closed_at).is_(None), 1), else_=0))
    workers = session.execute(
        select(col(M.link_worker_id), still_open, func.count())
        .where(col(M.link_worker_id).is_not(None), *filters.conditions())
        .group_by(col(M.link_worker_id))
        .order_by(col(M.link_worker_id))
    ).all()
    practice_names = dict(session.exec(select(Practice.ods_code, Practice.name)).all())
    worker_names = dict(session.exec(select(LinkWorker.id, LinkWorker.name)).all())
    referred = {f"referred:{ods}": n for ods, n, _ in practices}
    completed_by = {f"completed:{ods}": int(done or 0) for ods, _, done in practices}
    shown = small.protect(
        referred | completed_by,
        # Practices add up to the funnel's referred and completed. A practice's completed
        # is only shown through its share of its referrals: hidden with them.
        [Total(tuple(referred)), Total(tuple(completed_by))],
        hidden_with={f"completed:{ods}": f"referred:{ods}" for ods, _, _ in practices},
    )
    open_now = {f"open:{worker}": int(n or 0) for worker, n, _ in workers}
    total = {f"total:{worker}": n for worker, _, n in workers}
    # Caseloads add up to the open and all referrals of the filter (all but the few not
    # yet assigned).
    shown |= small.protect(open_now | total, [Total(tuple(open_now)), Total(tuple(total))])
    return Volumes(
        by_practice=[
            PracticeVolume(
                practice_ods=ods,
                practice_name=practice_names.get(ods, ods),
                referred=shown[f"referred:{ods}"],
                completed_pct=small.share(shown[f"completed:{ods}"], shown[f"referred:{ods}"]),
            )
            for ods, _, _ in practices
        ],
        caseload=[
            Caseload(
                link_worker_id=worker,
                link_worker_name=worker_names.get(worker, worker),
                open=shown[f"open:{worker}"],
                total=shown[f"total:{worker}"],
            )
            for worker, _, _ in workers
        ],
    )
