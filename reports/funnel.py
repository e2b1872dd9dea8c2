"""The funnel: referred → contacted → assessed → connected → took up → followed up →
completed, with the conversion from each stage to the next; and how referrals closed."""

from pydantic import BaseModel, Field
from sqlalchemy import case, func, select
from sqlmodel import Session, col

from domain.enums import ClosureReason
from domain.report_tables import ReferralMilestone as M
from reports.filters import ReportFilter
from reports.small_numbers import Suppression

STAGES = (
    ("referred", col(M.referred_at)),
    ("contacted", col(M.contacted_at)),
    ("assessed", col(M.assessed_at)),
    ("connected", col(M.connected_at)),
    ("took_up", col(M.took_up_at)),
    ("followed_up", col(M.followed_up_at)),
)


class FunnelStage(BaseModel):
    stage: str
    count: int | None = Field(description="Null when suppressed (a small number).")
    conversion_pct: float | None = Field(
        description="Of the previous stage's count, in per cent; null for the first stage or "
        "when either count is suppressed."
    )
    of_referred_pct: float | None


class Funnel(BaseModel):
    stages: list[FunnelStage]


def funnel(session: Session, filters: ReportFilter, small: Suppression) -> Funnel:
    completed = func.sum(case((col(M.closure_reason) == ClosureReason.COMPLETED, 1), else_=0))
    row = session.execute(
        select(*(func.count(column) for _, column in STAGES), completed).where(
            *filters.conditions()
        )
    ).one()
    counts = [int(n or 0) for n in row]
    names = [name for name, _ in STAGES] + ["completed"]
    shown = [small.count(n) for n in counts]
    return Funnel(
        stages=[
            FunnelStage(
                stage=name,
                count=shown[i],
                conversion_pct=small.share(shown[i], shown[i - 1]) if i else None,
                of_referred_pct=small.share(shown[i], shown[0]),
            )
            for i, name in enumerate(names)
        ]
    )


class ClosureCount(BaseModel):
    reason: str
    count: int | None
    pct: float | None = Field(description="Of all closed referrals.")


class Closures(BaseModel):
    closed: int | None
    still_open: int | None
    reasons: list[ClosureCount]


def closures(session: Session, filters: ReportFilter, small: Suppression) -> Closures:
    rows = dict(
        session.execute(
            select(col(M.closure_reason), func.count())
            .where(*filters.conditions())
            .group_by(col(M.closure_reason))
        ).all()
    )
    still_open = rows.pop(None, 0)
    closed = small.count(sum(rows.values()))
    return Closures(
        closed=closed,
        still_open=small.count(still_open),
        reasons=[
            ClosureCount(
                reason=reason.value,
                count=small.count(rows.get(reason, 0)),
                pct=small.share(small.count(rows.get(reason, 0)), closed),
            )
            for reason in ClosureReason
        ],
    )
