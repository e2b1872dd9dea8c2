"""Outcome instruments: their items, ranges, direction of "better", scoring and change.

Each instrument is versioned; answers name the version they were given under. A change is
always computed item by item with that item's own direction, so "positive change" means
"better for the person" whatever the scale.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, Field

from domain.messages import MeasureAnswers

N = TypeVar("N", int, float)


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


# Published SWEMWBS raw-total to metric-score conversion (Stewart-Brown et al., used in
# shared/DOMAIN.md); a raw total is only defined when all seven items are answered.
SWEMWBS_METRIC: dict[int, float] = {
    7: 7.00, 8: 9.51, 9: 11.25, 10: 12.40, 11: 13.33, 12: 14.08, 13: 14.75, 14: 15.32,
    15: 15.84, 16: 16.36, 17: 16.88, 18: 17.43, 19: 17.98, 20: 18.59, 21: 19.25, 22: 19.98,
    23: 20.73, 24: 21.54, 25: 22.35, 26: 23.21, 27: 24.11, 28: 25.03, 29: 26.02, 30: 27.03,
    31: 28.13, 32: 29.31, 33: 30.70, 34: 32.55, 35: 35.00,
}  # fmt: skip


@dataclass(frozen=True)
class Instrument:
    code: str
    version: str
    title: str
    items: tuple[str, ...]
    minimum: int
    maximum: int
    direction: Direction
    meaningful_change: float
    threshold_source: str
    """Where the default threshold comes from, or that none is published and why this one."""
    summed: bool = False
    item_directions: dict[str, Direction] = field(default_factory=dict)
    # What a form asks: the question over all items, each item's words and, where the
    # scale has words, each answer's. A form shows the number where an answer has none.
    question: str = ""
    item_labels: dict[str, str] = field(default_factory=dict)
    answer_labels: dict[int, str] = field(default_factory=dict)

    def label_of(self, item: str) -> str:
        return self.item_labels.get(item, item.replace("_", " ").capitalize())

    def direction_of(self, item: str) -> Direction:
        return self.item_directions.get(item, self.direction)


INSTRUMENTS: dict[tuple[str, str], Instrument] = {
    (i.code, i.version): i
    for i in (
        Instrument(
            code="swemwbs",
            version="1",
            title="Short Warwick-Edinburgh Mental Wellbeing Scale",
            items=tuple(f"item{n}" for n in range(1, 8)),
            minimum=1,
            maximum=5,
            direction=Direction.HIGHER_IS_BETTER,
            summed=True,
            # Shah et al. 2018: a change of about 1 to 3 metric points is meaningful for an
            # individual; 3 is the cautious end of that range.
            meaningful_change=3.0,
            threshold_source="Shah N et al. (2018), Health Qual Life Outcomes 16:239",
            question="Over the last 2 weeks, how often has the person felt like this?",
            item_labels={
                "item1": "I've been feeling optimistic about the future",
                "item2": "I've been feeling useful",
                "item3": "I've been feeling relaxed",
                "item4": "I've been dealing with problems well",
                "item5": "I've been thinking clearly",
                "item6": "I've been feeling close to other people",
                "item7": "I've been able to make up my own mind about things",
            },
            answer_labels={
                1: "None of the time",
                2: "Rarely",
                3: "Some of the time",
                4: "Often",
                5: "All of the time",
            },
        ),
        Instrument(
            code="ons4",
            version="1",
            title="ONS4 personal wellbeing",
            items=("life_satisfaction", "worthwhile", "happiness", "anxiety"),
            minimum=0,
            maximum=10,
            direction=Direction.HIGHER_IS_BETTER,
            item_directions={"anxiety": Direction.LOWER_IS_BETTER},
            # We know of no published minimal important change for an individual's ONS4
            # item. The default is one point on the 0-10 item, the smallest step a person
            # can report; a change is meaningful if any item moves that far the better way.
            # Configurable: SOCIALRX_MEASURES__THRESHOLDS='{"ons4": 2.0}'.
            meaningful_change=1.0,
            threshold_source="None published; default: one point, the smallest step an "
            "item can show (configurable)",
            question="On a scale of 0 to 10, where 0 is 'not at all' and 10 is 'completely':",
            item_labels={
                "life_satisfaction": "Overall, how satisfied are you with your life nowadays?",
                "worthwhile": "Overall, to what extent do you feel the things you do in your "
                "life are worthwhile?",
                "happiness": "Overall, how happy did you feel yesterday?",
                "anxiety": "Overall, how anxious did you feel yesterday?",
            },
        ),
        Instrument(
            code="ucla3",
            version="1",
            title="UCLA 3-item loneliness scale",
            items=("lack_companionship", "left_out", "isolated"),
            minimum=1,
            maximum=3,
            direction=Direction.LOWER_IS_BETTER,
            summed=True,
            # The scale is Hughes ME et al. (2004), Res Aging 26(6); that paper gives no
            # minimal important change, and we know of no source that does for the 3-item
            # total. The default is one point on the 3-9 total, the smallest step it can show.
            # Configurable: SOCIALRX_MEASURES__THRESHOLDS='{"ucla3": 2.0}'.
            meaningful_change=1.0,
            threshold_source="None published; default: one point on the 3-9 total, the "
            "smallest step it can show (configurable). Scale: Hughes ME et al. (2004)",
            question="How often does the person feel like this?",
            item_labels={
                "lack_companionship": "How often do you feel that you lack companionship?",
                "left_out": "How often do you feel left out?",
                "isolated": "How often do you feel isolated from others?",
            },
            answer_labels={1: "Hardly ever", 2: "Some of the time", 3: "Often"},
        ),
        Instrument(
            code="wellbeing_star",
            version="1",
            title="Well-being Star style outcome areas",
            items=(
                "lifestyle",
                "looking_after_yourself",
                "managing_symptoms",
                "work_volunteering_activities",
                "money",
                "where_you_live",
                "family_and_friends",
                "feeling_positive",
            ),
            minimum=1,
            maximum=5,
            direction=Direction.HIGHER_IS_BETTER,
            # Rotherham's headline counts any upward step in an area as positive change.
            meaningful_change=1.0,
            threshold_source="Dayson & Bashir (2014), Sheffield Hallam University",
            question="Where is the person on the journey of change in each area?",
            item_labels={
                "lifestyle": "Lifestyle",
                "looking_after_yourself": "Looking after yourself",
                "managing_symptoms": "Managing symptoms",
                "work_volunteering_activities": "Work, volunteering and other activities",
                "money": "Money",
                "where_you_live": "Where you live",
                "family_and_friends": "Family and friends",
                "feeling_positive": "Feeling positive",
            },
            answer_labels={
                1: "Stuck",
                2: "Accepting help",
                3: "Trying",
                4: "Finding what works",
                5: "Effective self-management",
            },
        ),
        Instrument(
            code="service_use",
            version="1",
            title="Service use over the stated period",
            items=(
                "gp_consultations",
                "ae_attendances",
                "outpatient_appointments",
                "inpatient_stays",
            ),
            minimum=0,
            maximum=365,
            direction=Direction.LOWER_IS_BETTER,
            # Counts of NHS contacts, not a validated scale: there is no published minimal
            # important change. The default is one fewer contact of some kind in the
            # period, the smallest step a count can show (it is the item, not the total of
            # contacts, that must fall that far). Reports give the contacts' percentage
            # change rather than this. Configurable: SOCIALRX_MEASURES__THRESHOLDS.
            meaningful_change=1.0,
            threshold_source="None published; default: one fewer contact of some kind, the "
            "smallest step a count can show (configurable)",
            question="How many times did the person use each service over the period your "
            "team asks about?",
            item_labels={
                "gp_consultations": "GP appointments",
                "ae_attendances": "A&E visits",
                "outpatient_appointments": "Hospital outpatient appointments",
                "inpatient_stays": "Hospital stays (admitted overnight or longer)",
            },
        ),
    )
}


class MeasureThresholds(BaseModel):
    """Meaningful-change thresholds per instrument code, in the instrument's own units.

    The defaults are those on each instrument above, with their sources: published for
    SWEMWBS (Shah et al. 2018) and, as a convention rather than a measured minimal change,
    for the Well-being Star areas (Rotherham); for ONS4, UCLA-3 and service use nothing is
    published, so the default is the smallest step the scale can show. A service may set
    its own (``SOCIALRX_MEASURES__THRESHOLDS='{"swemwbs": 2.0}'``), e.g. the lower end of
    Shah et al.'s 1-3 point range.
    """

    thresholds: dict[str, float] = Field(
        default_factory=lambda: {
            code: instrument.meaningful_change for (code, _), instrument in INSTRUMENTS.items()
        },
        description="Instrument code -> smallest improvement that counts as meaningful.",
    )

    def for_instrument(self, instrument: Instrument) -> float:
        return self.thresholds.get(instrument.code, instrument.meaningful_change)


DEFAULT_THRESHOLDS = MeasureThresholds()


class MeasureError(ValueError):
    """Answers that cannot be scored; the message names the item to fix."""


def instrument_for(answers: MeasureAnswers) -> Instrument:
    instrument = INSTRUMENTS.get((answers.instrument, answers.version))
    if instrument is None:
        known = ", ".join(f"{code} v{version}" for code, version in sorted(INSTRUMENTS))
        raise MeasureError(
            f"{answers.instrument} version {answers.version} is not a known instrument; "
            f"known: {known}"
        )
    return instrument


def validate(answers: MeasureAnswers) -> Instrument:
    """Every item answered, none unknown, each within its range; partial answers fail."""
    instrument = instrument_for(answers)
    unknown = sorted(set(answers.answers) - set(instrument.items))
    if unknown:
        raise MeasureError(f"{instrument.code}: unknown item(s) {', '.join(unknown)}")
    missing = [item for item in instrument.items if item not in answers.answers]
    if missing:
        raise MeasureError(f"{instrument.code}: item(s) {', '.join(missing)} not answered")
    for item in instrument.items:
        value = answers.answers[item]
        if not instrument.minimum <= value <= instrument.maximum:
            raise MeasureError(
                f"{instrument.code}.{item}: {value} is outside "
                f"{instrument.minimum}-{instrument.maximum}"
            )
    return instrument


def total_score(answers: MeasureAnswers) -> float | None:
    """The instrument's score: SWEMWBS metric, UCLA raw total; None where never summed."""
    instrument = validate(answers)
    if not instrument.summed:
        return None
    raw = sum(answers.answers.values())
    if instrument.code == "swemwbs":
        return SWEMWBS_METRIC[raw]
    return float(raw)


@dataclass(frozen=True)
class Change:
    instrument: str
    # Per item, after minus before, signed so that positive is better for the person.
    item_improvement: dict[str, int]
    total_improvement: float | None
    meaningful: bool
    before_total: float | None = None
    after_total: float | None = None

    @property
    def improved_items(self) -> list[str]:
        return [item for item, step in self.item_improvement.items() if step > 0]


def change(
    before: MeasureAnswers,
    after: MeasureAnswers,
    thresholds: MeasureThresholds = DEFAULT_THRESHOLDS,
) -> Change:
    """Item by item with each item's direction; meaningful against the configured threshold."""
    instrument = validate(before)
    threshold = thresholds.for_instrument(instrument)
    if validate(after) != instrument:
        raise MeasureError("before and after must use the same instrument and version")
    improvement = {
        item: _signed(instrument.direction_of(item), after.answers[item] - before.answers[item])
        for item in instrument.items
    }
    before_total, after_total = total_score(before), total_score(after)
    total = None
    if before_total is not None and after_total is not None:
        total = _signed(instrument.direction, after_total - before_total)
        meaningful = total >= threshold
    else:
        meaningful = any(step >= threshold for step in improvement.values())
    return Change(instrument.code, improvement, total, meaningful, before_total, after_total)


def _signed(direction: Direction, difference: N) -> N:
    return difference if direction == Direction.HIGHER_IS_BETTER else -difference
