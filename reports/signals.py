"""The read model's numbers an operator watches (the business gauges of /metrics): cheap
counts over indexed columns, taken at each scrape."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine, Select, func, select
from sqlmodel import Session, col

from domain.enums import (
    OutboxStatus,
    ReferralStatus,
    ServiceReferralStatus,
    TaskKind,
    TaskStatus,
)
from domain.tables import OutboxMessage, Referral, ServiceReferral, Task

K = TypeVar("K")


@dataclass(frozen=True)
class OperationalCounts:
    open_referrals: dict[ReferralStatus, int]
    """Every open status, with 0 where there is none."""
    overdue_tasks: dict[TaskKind, int]
    """Open tasks past their due time, by kind (every kind, 0 where none)."""
    outbox: dict[OutboxStatus, int]
    """Messages pending and dead (sent ones are not counted: they only grow)."""
    oldest_unanswered_service_referral_seconds: float
    """How long the oldest service referral still pending has waited; 0 if none waits."""


def operational_counts(engine: Engine, now: datetime | None = None) -> OperationalCounts:
    now = now or datetime.now(UTC)
    with Session(engine) as session:
        by_status = _counts(
            session,
            select(col(Referral.status), func.count())
            .where(col(Referral.status) != ReferralStatus.CLOSED)
            .group_by(col(Referral.status)),
        )
        overdue = _counts(
            session,
            select(col(Task.kind), func.count())
            .where(col(Task.status) == TaskStatus.OPEN, col(Task.due_at) < now)
            .group_by(col(Task.kind)),
        )
        outbox = _counts(
            session,
            select(col(OutboxMessage.status), func.count())
            .where(col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.DEAD]))
            .group_by(col(OutboxMessage.status)),
        )
        oldest_sent = session.execute(
            select(func.min(col(ServiceReferral.sent_at))).where(
                col(ServiceReferral.status) == ServiceReferralStatus.PENDING
            )
        ).scalar_one()
    open_statuses = [s for s in ReferralStatus if s != ReferralStatus.CLOSED]
    return OperationalCounts(
        open_referrals={s: 0 for s in open_statuses} | by_status,
        overdue_tasks={k: 0 for k in TaskKind} | overdue,
        outbox={OutboxStatus.PENDING: 0, OutboxStatus.DEAD: 0} | outbox,
        oldest_unanswered_service_referral_seconds=(
            0.0 if oldest_sent is None else max(0.0, (now - oldest_sent).total_seconds())
        ),
    )


def _counts(session: Session, query: Select[K, int]) -> dict[K, int]:
    return {key: count for key, count in session.execute(query)}
