"""Scoring worked by hand for every instrument, with direction and partial answers."""

import pytest
from pydantic import ValidationError

from api.schemas import AssessmentIn
from core.settings import Settings
from domain.measures import (
    INSTRUMENTS,
    MeasureError,
    MeasureThresholds,
    change,
    total_score,
    validate,
)
from domain.messages import MeasureAnswers


def swemwbs(*answers: int) -> MeasureAnswers:
    return MeasureAnswers(
        instrument="swemwbs", answers={f"item{n}": a for n, a in enumerate(answers, 1)}
    )


@pytest.mark.parametrize(
    ("answers", "metric"),
    [
        ((1,) * 7, 7.00),
        ((3, 3, 3, 3, 3, 3, 3), 19.25),
        ((5,) * 7, 35.00),
        ((1, 1, 1, 1, 2, 3, 3), 14.08),
    ],
)
def test_swemwbs_converts_raw_totals_with_the_published_table(
    answers: tuple[int, ...], metric: float
) -> None:
    assert total_score(swemwbs(*answers)) == metric


def test_partial_swemwbs_is_never_scored() -> None:
    with pytest.raises(MeasureError, match="item7 not answered"):
        total_score(swemwbs(3, 3, 3, 3, 3, 3))


def test_out_of_range_answer_names_the_item() -> None:
    with pytest.raises(MeasureError, match=r"swemwbs\.item2: 6 is outside 1-5"):
        validate(swemwbs(3, 6, 3, 3, 3, 3, 3))


def test_unknown_instrument_version_is_refused() -> None:
    with pytest.raises(MeasureError, match="swemwbs version 9 is not a known instrument"):
        validate(MeasureAnswers(instrument="swemwbs", version="9", answers={"item1": 1}))


def test_swemwbs_change_is_in_metric_points() -> None:
    moved = change(swemwbs(2, 2, 2, 2, 2, 2, 2), swemwbs(3, 2, 2, 2, 2, 2, 2))
    assert moved.total_improvement == pytest.approx(15.84 - 15.32)
    assert not moved.meaningful
    # Raw 14 -> 19 is 2.66 metric points, below the threshold of 3; raw 20 is 3.27 above.
    assert not change(swemwbs(2, 2, 2, 2, 2, 2, 2), swemwbs(3, 3, 3, 3, 3, 2, 2)).meaningful
    assert change(swemwbs(2, 2, 2, 2, 2, 2, 2), swemwbs(3, 3, 3, 3, 3, 3, 2)).meaningful


def ons4(life: int, worthwhile: int, happy: int, anxious: int) -> MeasureAnswers:
    return MeasureAnswers(
        instrument="ons4",
        answers={
            "life_satisfaction": life,
            "worthwhile": worthwhile,
            "happiness": happy,
            "anxiety": anxious,
        },
    )


def test_ons4_is_never_summed_and_less_anxiety_is_better() -> None:
    assert total_score(ons4(5, 5, 5, 5)) is None
    moved = change(ons4(5, 5, 5, 8), ons4(5, 4, 5, 6))
    assert moved.item_improvement == {
        "life_satisfaction": 0,
        "worthwhile": -1,
        "happiness": 0,
        "anxiety": 2,
    }
    assert moved.improved_items == ["anxiety"]
    assert moved.meaningful


def ucla(*answers: int) -> MeasureAnswers:
    items = ("lack_companionship", "left_out", "isolated")
    return MeasureAnswers(instrument="ucla3", answers=dict(zip(items, answers, strict=True)))


def test_ucla_total_falls_as_loneliness_eases() -> None:
    assert total_score(ucla(3, 3, 3)) == 9
    moved = change(ucla(3, 3, 3), ucla(2, 3, 2))
    assert moved.total_improvement == 2
    assert moved.meaningful
    assert change(ucla(1, 1, 1), ucla(2, 1, 1)).total_improvement == -1


STAR_AREAS = INSTRUMENTS["wellbeing_star", "1"].items


def test_wellbeing_star_counts_any_area_that_stepped_up() -> None:
    before = MeasureAnswers(instrument="wellbeing_star", answers=dict.fromkeys(STAR_AREAS, 2))
    after = MeasureAnswers(
        instrument="wellbeing_star", answers=dict.fromkeys(STAR_AREAS, 2) | {"money": 4}
    )
    moved = change(before, after)
    assert moved.improved_items == ["money"]
    assert moved.meaningful
    assert not change(before, before).meaningful


def test_fewer_ae_attendances_is_improvement() -> None:
    items = ("gp_consultations", "ae_attendances", "outpatient_appointments", "inpatient_stays")
    before = MeasureAnswers(
        instrument="service_use", answers=dict(zip(items, (6, 3, 2, 1), strict=True))
    )
    after = MeasureAnswers(
        instrument="service_use", answers=dict(zip(items, (4, 1, 2, 1), strict=True))
    )
    assert change(before, after).item_improvement == {
        "gp_consultations": 2,
        "ae_attendances": 2,
        "outpatient_appointments": 0,
        "inpatient_stays": 0,
    }


def test_swemwbs_conversion_middle_of_the_table() -> None:
    # Raw 21 (all items 3) is the middle of 7-35; raw 28 is three quarters of the way.
    assert total_score(swemwbs(3, 3, 3, 3, 3, 3, 3)) == 19.25
    assert total_score(swemwbs(4, 4, 4, 4, 4, 4, 4)) == 25.03
    assert total_score(swemwbs(1, 1, 1, 1, 1, 1, 2)) == 9.51


def test_thresholds_are_configurable_and_default_to_the_documented_ones() -> None:
    assert MeasureThresholds().thresholds == {
        "swemwbs": 3.0,
        "ons4": 1.0,
        "ucla3": 1.0,
        "wellbeing_star": 1.0,
        "service_use": 1.0,
    }
    # Raw 14 -> 19 is 2.66 metric points: meaningful only with a lower local threshold.
    before, after = swemwbs(2, 2, 2, 2, 2, 2, 2), swemwbs(3, 3, 3, 3, 3, 2, 2)
    assert not change(before, after).meaningful
    assert change(before, after, MeasureThresholds(thresholds={"swemwbs": 2.0})).meaningful
    # An instrument missing from the configuration keeps its default threshold.
    assert change(ucla(3, 3, 3), ucla(2, 3, 3), MeasureThresholds(thresholds={})).meaningful


def use(gp: int, ae: int) -> MeasureAnswers:
    return MeasureAnswers(instrument="service_use", answers={
        "gp_consultations": gp, "ae_attendances": ae,
        "outpatient_appointments": 0, "inpatient_stays": 0,
    })  # fmt: skip


@pytest.mark.parametrize(
    ("before", "one_step", "no_step"),
    [
        # ONS4: one point on one item, the better way (for anxiety, down).
        (ons4(5, 5, 5, 5), ons4(5, 5, 5, 4), ons4(5, 5, 5, 6)),
        # UCLA-3: one point off the 3-9 total.
        (ucla(2, 2, 2), ucla(2, 1, 2), ucla(2, 2, 2)),
        # Service use: one fewer contact of one kind.
        (use(3, 1), use(3, 0), use(3, 1)),
    ],
)
def test_with_no_published_threshold_the_smallest_step_is_meaningful(
    before: MeasureAnswers, one_step: MeasureAnswers, no_step: MeasureAnswers
) -> None:
    assert change(before, one_step).meaningful
    assert not change(before, no_step).meaningful


def test_every_threshold_names_its_source_or_says_none_is_published() -> None:
    sources = {code: i.threshold_source for (code, _), i in INSTRUMENTS.items()}
    assert sources["swemwbs"].startswith("Shah N et al. (2018)")
    assert sources["wellbeing_star"].startswith("Dayson & Bashir (2014)")
    for code in ("ons4", "ucla3", "service_use"):
        assert sources[code].startswith("None published; default: ")
        assert "smallest step" in sources[code] and "(configurable)" in sources[code]


def test_worse_scores_are_negative_change_in_every_direction() -> None:
    worse = change(swemwbs(4, 4, 4, 4, 4, 4, 4), swemwbs(3, 3, 3, 3, 3, 3, 3))
    assert worse.total_improvement == pytest.approx(19.25 - 25.03)
    assert not worse.meaningful and worse.improved_items == []
    assert change(ons4(5, 5, 5, 2), ons4(5, 5, 5, 4)).item_improvement["anxiety"] == -2
    assert change(ucla(1, 1, 1), ucla(3, 3, 3)).total_improvement == -6


def test_partial_and_out_of_range_answers_name_the_item_for_every_instrument() -> None:
    with pytest.raises(MeasureError, match="anxiety not answered"):
        validate(MeasureAnswers(instrument="ons4", answers={"life_satisfaction": 3}))
    with pytest.raises(MeasureError, match=r"ons4\.anxiety: 11 is outside 0-10"):
        validate(ons4(5, 5, 5, 11))
    with pytest.raises(MeasureError, match=r"ucla3\.left_out: 4 is outside 1-3"):
        validate(ucla(1, 4, 1))
    with pytest.raises(MeasureError, match="unknown item"):
        validate(MeasureAnswers(instrument="ucla3", answers={"sad": 1}))
    with pytest.raises(MeasureError, match="must use the same instrument"):
        change(ucla(1, 1, 1), swemwbs(1, 1, 1, 1, 1, 1, 1))


def test_api_rejects_a_partial_baseline_with_a_422_naming_the_item() -> None:
    with pytest.raises(ValidationError, match="item7 not answered"):
        AssessmentIn.model_validate(
            {"need_codes": ["sp-arts"], "baseline": [swemwbs(3, 3, 3, 3, 3, 3).model_dump()]}
        )


def test_thresholds_and_small_numbers_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALRX_MEASURES__THRESHOLDS", '{"swemwbs": 2.0}')
    monkeypatch.setenv("SOCIALRX_REPORTS__SMALL_NUMBERS", "10")
    settings = Settings()
    assert settings.measures.thresholds == {"swemwbs": 2.0}
    assert settings.measures.for_instrument(INSTRUMENTS["swemwbs", "1"]) == 2.0
    # Instruments not named keep their default threshold.
    assert settings.measures.for_instrument(INSTRUMENTS["ucla3", "1"]) == 1.0
    assert settings.reports.small_numbers == 10


def test_every_stored_code_fits_its_column() -> None:
    """PostgreSQL refuses a value longer than its VARCHAR; SQLite silently keeps it, so only
    a run on PostgreSQL that reached the step would show it."""
    import domain.enums as enums
    from domain.tables import ENUM, OutboxMessage

    message_kind_length = OutboxMessage.__table__.c.kind.type.length  # type: ignore[attr-defined]
    for name in dir(enums):
        kind = getattr(enums, name)
        if isinstance(kind, type) and issubclass(kind, enums.StrEnum) and kind is not enums.StrEnum:
            limit = message_kind_length if kind is enums.MessageKind else ENUM.length
            assert limit is not None
            too_long = [v.value for v in kind if len(v.value) > limit]
            assert not too_long, f"{name} values longer than {limit}: {too_long}"
