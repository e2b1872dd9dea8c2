"""A referral's outcome as the GP may see it: each measure's baseline against its latest score,
the change with its direction and whether it is meaningful, and the services taken up.

One function for every view of it: ``GET /referrals/{id}`` (JSON), the FHIR Task's output,
the practice's referral page, and (its comparison) the PDF message back to the GP. Whether
the caller may see it at all is consent's rule (``domain.consent.outcome_details_for_gp``),
applied by the caller of ``outcome_detail``.
"""

from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from activities.report_facts import BASELINE
from catalogue.tables import Organization, Service
from domain.enums import ServiceReferralStatus
from domain.measures import (
    Direction,
    MeasureError,
    MeasureThresholds,
    change,
    instrument_for,
    total_score,
)
from domain.messages import MeasureAnswers
from domain.tables import OutcomeRecord, ServiceReferral


class ChangeDirection(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    NO_CHANGE = "no change"


class ItemOutcome(BaseModel):
    item: str
    baseline: int | None
    latest: int | None
    change: int | None = Field(description="Latest minus baseline, as the scale counts.")
    direction: ChangeDirection | None = Field(
        description="Better or worse by the item's own direction (less anxiety is better)."
    )


class MeasureOutcome(BaseModel):
    """One instrument: its baseline against its most recent follow-up."""

    instrument: str
    title: str
    higher_is_better: bool
    baseline_score: float | None = Field(
        description="The instrument's score (SWEMWBS metric, UCLA-3 total); null when it is "
        "not scored as a total (then see items) or was not measured at baseline."
    )
    latest_score: float | None
    latest_checkpoint: str | None = Field(description="e.g. follow_up_2; null if none.")
    change: float | None = Field(description="Latest score minus baseline score.")
    direction: ChangeDirection | None = Field(
        description="By the instrument's own direction of better; for instruments not scored "
        "as a total, by the sum of the items' steps the better way. Null without both."
    )
    meaningful: bool | None = Field(
        description="Whether the improvement reaches the configured threshold "
        "(settings.measures); null without both a baseline and a later answer."
    )
    items: list[ItemOutcome]


class ServiceTakenUp(BaseModel):
    service_id: str
    service_name: str | None
    organisation_name: str | None


class OutcomeDetail(BaseModel):
    measures: list[MeasureOutcome]
    services_taken_up: list[ServiceTakenUp]


def outcome_detail(
    session: Session, referral_id: UUID, thresholds: MeasureThresholds
) -> OutcomeDetail:
    """What the referral led to: two queries, whatever the number of measures."""
    records = session.exec(
        select(OutcomeRecord)
        .where(OutcomeRecord.referral_id == referral_id)
        .where(col(OutcomeRecord.missed).is_(False))
        .order_by(col(OutcomeRecord.recorded_at), col(OutcomeRecord.id))
    ).all()
    baseline: dict[str, MeasureAnswers] = {}
    latest: dict[str, tuple[str, MeasureAnswers]] = {}
    for record in records:
        answers = MeasureAnswers(
            instrument=record.instrument, version=record.version, answers=record.answers
        )
        if record.checkpoint == BASELINE:
            baseline[record.instrument] = answers
        else:  # in the order recorded: the last checkpoint of an instrument wins
            latest[record.instrument] = (record.checkpoint, answers)
    return OutcomeDetail(
        measures=compare_measures(baseline, latest, thresholds),
        services_taken_up=services_taken_up(session, referral_id),
    )


def services_taken_up(session: Session, referral_id: UUID) -> list[ServiceTakenUp]:
    # Only the names: loading whole directory records (many columns each) costs more.
    found = session.exec(
        select(ServiceReferral.service_id, Service.name, Organization.name)
        .join(Service, col(Service.id) == col(ServiceReferral.service_id), isouter=True)
        .join(Organization, col(Organization.id) == col(Service.organization_id), isouter=True)
        .where(ServiceReferral.referral_id == referral_id)
        .where(ServiceReferral.status == ServiceReferralStatus.STARTED)
        .order_by(col(ServiceReferral.sent_at))
    ).all()
    return [
        ServiceTakenUp(service_id=service_id, service_name=name, organisation_name=organisation)
        for service_id, name, organisation in found
    ]


def compare_measures(
    baseline: dict[str, MeasureAnswers],
    latest: dict[str, tuple[str, MeasureAnswers]],
    thresholds: MeasureThresholds,
) -> list[MeasureOutcome]:
    """Each instrument measured at baseline or later, by its code, scored by domain.measures."""
    outcomes = []
    for code in sorted(baseline.keys() | latest.keys()):
        before = baseline.get(code)
        checkpoint, after = latest.get(code, (None, None))
        outcomes.append(_compare(before, checkpoint, after, thresholds))
    return outcomes


def _compare(
    before: MeasureAnswers | None,
    checkpoint: str | None,
    after: MeasureAnswers | None,
    thresholds: MeasureThresholds,
) -> MeasureOutcome:
    some = after or before
    assert some is not None, "an instrument is compared only once measured"
    try:
        instrument = instrument_for(some)
    except MeasureError:
        instrument = None
    outcome = MeasureOutcome(
        instrument=some.instrument,
        title=instrument.title if instrument else some.instrument,
        higher_is_better=instrument is None or instrument.direction == Direction.HIGHER_IS_BETTER,
        baseline_score=_score(before),
        latest_score=_score(after),
        latest_checkpoint=checkpoint,
        change=None,
        direction=None,
        meaningful=None,
        items=[],
    )
    items = list(instrument.items) if instrument else sorted(some.answers)
    try:
        moved = change(before, after, thresholds) if before and after else None
    except MeasureError:
        moved = None  # answers under another version of the instrument cannot be compared
    outcome.items = [
        ItemOutcome(
            item=item,
            baseline=before.answers.get(item) if before else None,
            latest=after.answers.get(item) if after else None,
            change=after.answers[item] - before.answers[item]
            if moved and before and after
            else None,
            direction=_direction(moved.item_improvement[item]) if moved else None,
        )
        for item in items
    ]
    if moved is None:
        return outcome
    outcome.meaningful = moved.meaningful
    if moved.before_total is not None and moved.after_total is not None:
        outcome.change = round(moved.after_total - moved.before_total, 2)
    if moved.total_improvement is not None:
        outcome.direction = _direction(moved.total_improvement)
    else:
        outcome.direction = _direction(sum(moved.item_improvement.values()))
    return outcome


def _score(answers: MeasureAnswers | None) -> float | None:
    if answers is None:
        return None
    try:
        return total_score(answers)
    except MeasureError:
        return None


def _direction(improvement: float) -> ChangeDirection:
    """``improvement`` is signed so that positive is better for the person."""
    if improvement > 0:
        return ChangeDirection.BETTER
    if improvement < 0:
        return ChangeDirection.WORSE
    return ChangeDirection.NO_CHANGE
