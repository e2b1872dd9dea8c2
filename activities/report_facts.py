"""Projects each referral step into the report tables: funnel milestones and outcome change.

Runs inside ``apply_projection``'s transaction, so it is applied exactly once per step too.
"""

from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import bindparam, insert
from sqlmodel import Session, col, select, update

from domain.enums import ProjectionAction, ReferralStatus
from domain.measures import MeasureError, MeasureThresholds, change
from domain.messages import MeasureAnswers, OutcomeSpec, Projection
from domain.report_tables import OutcomeChange, ReferralMilestone
from domain.tables import OutcomeRecord, Practice, table_of

BASELINE = "baseline"
SERVICE_USE = "service_use"
# The step (workflow action) that first puts a referral at each milestone.
MILESTONE_OF_ACTION = {
    ProjectionAction.ASSESSED: "assessed_at",
    ProjectionAction.CONNECTED: "connected_at",
    ProjectionAction.UPTAKE_CONFIRMED: "took_up_at",
    ProjectionAction.FOLLOW_UP_RECORDED: "followed_up_at",
}
MILESTONE = table_of(ReferralMilestone)
PRACTICE = table_of(Practice)
_TEAM_OF_PRACTICE = select(PRACTICE.c.team_id).where(PRACTICE.c.ods_code == bindparam("ods"))


class ReferralFacts(NamedTuple):
    """What the milestone row needs of the referral row, read once by the projection."""

    id: UUID
    practice_ods: str
    created_at: datetime
    milestone: dict[str, Any] | None
    """The referral's ``referral_milestone`` row as the step found it; None before its first."""


def record_report_facts(
    session: Session,
    referral: ReferralFacts,
    projection: Projection,
    thresholds: MeasureThresholds,
) -> None:
    # The milestone row is read and written as plain values (Core, not the ORM): this runs in
    # every step's transaction, and the ORM's loading and unit of work were most of its cost.
    row = referral.milestone
    if row is None:
        team_id = session.execute(_TEAM_OF_PRACTICE, {"ods": referral.practice_ods}).scalar()
        milestone = _new_milestone(referral, team_id or "")
        _advance(milestone, projection)
        session.execute(insert(MILESTONE), milestone)
    else:
        milestone = dict(row)
        _advance(milestone, projection)
        changed = {name: value for name, value in milestone.items() if value != row[name]}
        if changed:
            session.execute(
                update(MILESTONE).where(MILESTONE.c.referral_id == referral.id).values(changed)
            )
    for outcome in projection.outcomes:
        if outcome.checkpoint != BASELINE and outcome.measures:
            _record_changes(session, projection, outcome, thresholds)


def _new_milestone(referral: ReferralFacts, team_id: str) -> dict[str, Any]:
    """The row of a referral that has reached no stage yet, with the model's defaults."""
    return ReferralMilestone(
        referral_id=referral.id,
        practice_ods=referral.practice_ods,
        team_id=team_id,
        referred_at=referral.created_at,
    ).model_dump()


def _advance(milestone: dict[str, Any], projection: Projection) -> None:
    at = projection.at
    milestone["link_worker_id"] = projection.link_worker_id
    if projection.need_codes is not None:
        milestone["need_codes"] = need_codes_text(projection.need_codes)
    if projection.action == ProjectionAction.CONTACT_ATTEMPTED:
        milestone["first_attempt_at"] = milestone["first_attempt_at"] or at
        if projection.reached:
            milestone["contacted_at"] = milestone["contacted_at"] or at
    if projection.action == ProjectionAction.CHECKPOINT_OPENED:
        milestone["follow_up_due"] = True
    field = MILESTONE_OF_ACTION.get(projection.action)
    if field is not None and milestone[field] is None:
        milestone[field] = at
    if projection.status == ReferralStatus.CLOSED:
        milestone["closed_at"] = milestone["closed_at"] or at
        milestone["closure_reason"] = projection.closure_reason


def need_codes_text(codes: list[str]) -> str:
    """``,a,b,``: a category filter is then ``LIKE '%,a,%'`` on every database."""
    return "," + ",".join(codes) + "," if codes else ""


def _record_changes(
    session: Session, projection: Projection, outcome: OutcomeSpec, thresholds: MeasureThresholds
) -> None:
    baselines = {
        row.instrument: row
        for row in session.exec(
            select(OutcomeRecord)
            .where(OutcomeRecord.referral_id == projection.referral_id)
            .where(OutcomeRecord.checkpoint == BASELINE)
        )
    }
    for measure in outcome.measures:
        # Reports count each instrument's most recent checkpoint only.
        session.execute(
            update(OutcomeChange)
            .where(col(OutcomeChange.referral_id) == projection.referral_id)
            .where(col(OutcomeChange.instrument) == measure.instrument)
            .values(latest=False)
        )
        baseline = baselines.get(measure.instrument)
        before = (
            MeasureAnswers(
                instrument=baseline.instrument, version=baseline.version, answers=baseline.answers
            )
            if baseline is not None and baseline.version == measure.version
            else None
        )
        session.add(
            change_row(
                projection.referral_id,
                outcome.checkpoint,
                before,
                measure,
                projection.at,
                thresholds,
            )
        )


def change_row(
    referral_id: UUID,
    checkpoint: str,
    before: MeasureAnswers | None,
    after: MeasureAnswers,
    at: datetime,
    thresholds: MeasureThresholds,
) -> OutcomeChange:
    """The stored change; without a comparable baseline, a row that says there is none."""
    row = OutcomeChange(
        referral_id=referral_id,
        checkpoint=checkpoint,
        instrument=after.instrument,
        version=after.version,
        has_baseline=False,
        recorded_at=at,
    )
    if before is None:
        return row
    try:
        moved = change(before, after, thresholds)
    except MeasureError:
        # Answers were validated at the API; a baseline stored under rules since changed
        # cannot be compared, which is the same as having none.
        return row
    row.has_baseline = True
    row.total_improvement = moved.total_improvement
    row.meaningful = moved.meaningful
    row.improved_any = bool(moved.improved_items)
    row.item_improvement = moved.item_improvement
    row.before_total = moved.before_total
    row.after_total = moved.after_total
    if after.instrument == SERVICE_USE:
        # Service use is never scored as a scale, but its counts add up to a total number
        # of NHS contacts, which is what the report's percentage change is taken of.
        row.before_total = float(sum(before.answers.values()))
        row.after_total = float(sum(after.answers.values()))
        row.item_before = dict(before.answers)
    return row
