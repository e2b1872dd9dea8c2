"""How each measure moved from its baseline, as every view of the outcome shows it: the
instrument's own direction of better, item by item where it is not scored as a total."""

from activities.outcome import ChangeDirection, compare_measures
from domain.measures import MeasureThresholds
from domain.messages import MeasureAnswers

ONS4 = ("life_satisfaction", "worthwhile", "happiness", "anxiety")


def ons4(*values: int) -> MeasureAnswers:
    return MeasureAnswers(instrument="ons4", answers=dict(zip(ONS4, values, strict=True)))


def test_items_move_by_their_own_direction_and_the_instrument_by_their_sum() -> None:
    (outcome,) = compare_measures(
        {"ons4": ons4(4, 4, 4, 8)},
        {"ons4": ("follow_up_1", ons4(4, 5, 4, 6))},
        MeasureThresholds(),
    )
    items = {item.item: item for item in outcome.items}
    assert (items["anxiety"].change, items["anxiety"].direction) == (-2, ChangeDirection.BETTER)
    assert (items["worthwhile"].change, items["worthwhile"].direction) == (1, "better")
    assert items["happiness"].direction == ChangeDirection.NO_CHANGE
    # Not scored as a total: no scores, but a direction and whether it is meaningful.
    assert outcome.baseline_score is None and outcome.change is None
    assert outcome.direction == ChangeDirection.BETTER and outcome.meaningful is True


def test_a_higher_threshold_makes_the_same_change_not_meaningful() -> None:
    (outcome,) = compare_measures(
        {"ons4": ons4(4, 4, 4, 8)},
        {"ons4": ("follow_up_1", ons4(4, 5, 4, 7))},
        MeasureThresholds(thresholds={"ons4": 2.0}),
    )
    assert outcome.direction == ChangeDirection.BETTER and outcome.meaningful is False


def test_worse_and_missing_baselines_are_said_as_such() -> None:
    worse, later_only = compare_measures(
        {"ons4": ons4(6, 6, 6, 2)},
        {
            "ons4": ("follow_up_2", ons4(5, 6, 6, 3)),
            "ucla3": (
                "follow_up_2",
                MeasureAnswers(
                    instrument="ucla3",
                    answers={"lack_companionship": 2, "left_out": 2, "isolated": 2},
                ),
            ),
        },
        MeasureThresholds(),
    )
    assert worse.direction == ChangeDirection.WORSE and worse.meaningful is False
    assert later_only.instrument == "ucla3" and later_only.latest_score == 6.0
    assert later_only.baseline_score is None and later_only.direction is None
    assert later_only.meaningful is None and later_only.higher_is_better is False
