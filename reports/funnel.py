"""The funnel: referred → contacted → assessed → connected → took up → followed up →
completed, with the conversion from each stage to the next; and how referrals closed."""

from pydantic import BaseModel, Field
from sqlalchemy import case, func, select
from sqlmodel import Session, col

from domain.enums import ClosureReason
from domain.report_tables import ReferralMilestone as M
from reports.filters import ReportFilter
from reports.small_numbers import Suppression, Total

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


CLOSED, STILL_OPEN = "closed", "still_open"


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
    reasons = [reason.value for reason in ClosureReason]
    counts = {reason: rows.get(reason, 0) for reason in ClosureReason}
    shown = small.protect(
        {**{r.value: n for r, n in counts.items()}, CLOSED: sum(counts.values()),
         STILL_OPEN: still_open},
        # Reasons add up to the closed, and closed and open to the funnel's referred.
        [Total(tuple(reasons), CLOSED), Total((CLOSED, STILL_OPEN))],
        # The funnel shows its completed (and the open referrals add up from the caseloads):
        # hiding either here would hide nothing.
        published_elsewhere={ClosureReason.COMPLETED.value, STILL_OPEN},
    )  # fmt: skip
    return Closures(
        closed=shown[CLOSED],
        still_open=shown[STILL_OPEN],
        reasons=[
            ClosureCount(
                reason=reason,
                count=shown[reason],
                pct=small.share(shown[reason], shown[CLOSED]),
            )
            for reason in reasons
        ],
    )
