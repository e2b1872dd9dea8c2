"""The message back to the GP as a PDF, following the PRSB Social Prescribing Standard's
"message back to GP": who it is about, the referral and closure SNOMED codes, the dates and
the link worker; with the person's consent to details, the services taken up and how each
outcome measure moved from its baseline. Rendered from a GP_OUTCOME message's payload, so a
message sent again carries the same document.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from activities.outcome import ChangeDirection, MeasureOutcome, compare_measures
from activities.report_facts import BASELINE
from domain.codes import REFERRAL_TO_SOCIAL_PRESCRIBING, SNOMED_DISPLAY
from domain.enums import ClosureReason
from domain.measures import DEFAULT_THRESHOLDS, MeasureThresholds
from domain.messages import MeasureAnswers

TITLE = "Social prescribing: outcome of referral"

CLOSURE_TEXT = {
    ClosureReason.COMPLETED: "Completed",
    ClosureReason.DECLINED: "Declined by the person",
    ClosureReason.UNABLE_TO_CONTACT: "Unable to contact the person",
    ClosureReason.CONSENT_WITHDRAWN: "The person withdrew consent",
    ClosureReason.INELIGIBLE: "Not eligible for social prescribing",
    ClosureReason.NO_SUITABLE_SERVICE: "No suitable service found",
    ClosureReason.CANCELLED_BY_REFERRER: "Cancelled by the referrer",
    ClosureReason.LOST_TO_FOLLOW_UP: "Lost to follow-up",
}


@dataclass(frozen=True)
class MeasureSummary:
    """One instrument, baseline against the latest checkpoint, in the GP's words."""

    title: str
    baseline: str
    latest: str
    change: str


def render(payload: dict[str, Any], thresholds: MeasureThresholds = DEFAULT_THRESHOLDS) -> bytes:
    """The PDF of one GP_OUTCOME payload."""
    pdf = FPDF(format="A4")
    pdf.set_title(TITLE)
    pdf.set_author("socialrx")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    _line(pdf, TITLE, height=9)
    pdf.ln(2)

    pdf.set_font("Helvetica", "", 10)
    name = f"{payload.get('given_name', '')} {payload.get('family_name', '')}".strip()
    _field(pdf, "Patient", name or "-")
    _field(pdf, "NHS number", _nhs_number(str(payload["nhs_number"])))
    if payload.get("birth_date"):
        _field(pdf, "Date of birth", _day(payload["birth_date"]))
    _field(pdf, "Registered practice (ODS)", str(payload["practice_ods"]))
    if payload.get("referred_at"):
        _field(pdf, "Referral received", _day(payload["referred_at"]))
    _field(pdf, "Referral closed", _day(payload["closed_at"]))
    link_worker = payload.get("link_worker")
    _field(pdf, "Link worker", link_worker["name"] if link_worker else "Not assigned")
    reason = ClosureReason(payload["closure_reason"])
    _field(pdf, "Closure reason", CLOSURE_TEXT[reason])

    _heading(pdf, "SNOMED CT codes for the record")
    _line(pdf, _coded(REFERRAL_TO_SOCIAL_PRESCRIBING))
    closure_code = payload["snomed"]["code"]
    if closure_code != REFERRAL_TO_SOCIAL_PRESCRIBING:
        _line(pdf, _coded(closure_code))

    if payload.get("outcome_details_withheld", True):
        _heading(pdf, "Details")
        _line(
            pdf,
            "The person agreed to share only the codes and the closure reason with the "
            "practice: no services or outcome measures are included.",
        )
        return bytes(pdf.output())

    _heading(pdf, "Services taken up")
    services = payload.get("services_taken_up") or []
    if not services:
        _line(pdf, "None.")
    for service in services:
        name = service.get("service_name") or service["service_id"]
        organisation = service.get("organisation_name")
        _line(pdf, f"- {name}" + (f" ({organisation})" if organisation else ""))

    _heading(pdf, "Outcome measures")
    summaries = measure_summaries(payload.get("measures") or {}, thresholds)
    if not summaries:
        _line(pdf, "No outcome measures were recorded.")
    for summary in summaries:
        pdf.set_font("Helvetica", "B", 10)
        _line(pdf, summary.title)
        pdf.set_font("Helvetica", "", 10)
        _line(pdf, f"Baseline: {summary.baseline}")
        _line(pdf, f"Latest: {summary.latest}")
        _line(pdf, f"Change: {summary.change}")
        pdf.ln(1)
    return bytes(pdf.output())


def measure_summaries(
    measures: dict[str, Any], thresholds: MeasureThresholds = DEFAULT_THRESHOLDS
) -> list[MeasureSummary]:
    """Each instrument's baseline and latest answers, compared as every view of the outcome
    compares them (``activities.outcome``)."""
    baseline: dict[str, MeasureAnswers] = {}
    latest: dict[str, tuple[str, MeasureAnswers]] = {}
    # Checkpoints come in the order they were recorded; the last one of an instrument wins.
    for checkpoint, recorded in measures.items():
        for measure in recorded.get("measures", []):
            answers = MeasureAnswers.model_validate(measure)
            if checkpoint == BASELINE:
                baseline[answers.instrument] = answers
            else:
                latest[answers.instrument] = (checkpoint, answers)
    return [
        MeasureSummary(
            title=outcome.title,
            baseline=_score(outcome, outcome.baseline_score, "baseline"),
            latest=_score(outcome, outcome.latest_score, "latest"),
            change=_change(outcome),
        )
        for outcome in compare_measures(baseline, latest, thresholds)
    ]


def _score(outcome: MeasureOutcome, score: float | None, which: str) -> str:
    if score is not None:
        return f"{score:g}"
    answered = [(item.item, getattr(item, which)) for item in outcome.items]
    if all(value is None for _, value in answered):
        return "not recorded"
    return ", ".join(f"{item} {value}" for item, value in answered)


def _change(outcome: MeasureOutcome) -> str:
    if outcome.direction is None:
        if _score(outcome, outcome.baseline_score, "baseline") == "not recorded" or (
            _score(outcome, outcome.latest_score, "latest") == "not recorded"
        ):
            return "cannot be assessed without both a baseline and a later score"
        return "cannot be compared (the instrument's version changed)"
    if outcome.change is not None:
        text = f"{outcome.change:+g} ({outcome.direction})"
    else:
        better = [i.item for i in outcome.items if i.direction == ChangeDirection.BETTER]
        worse = [i.item for i in outcome.items if i.direction == ChangeDirection.WORSE]
        text = (
            f"better in {', '.join(better) or 'no item'}; worse in {', '.join(worse) or 'no item'}"
        )
    return text + ("; a meaningful improvement" if outcome.meaningful else "")


def _coded(code: str) -> str:
    return f"{code} | {SNOMED_DISPLAY[code]}"


def _nhs_number(number: str) -> str:
    return f"{number[:3]} {number[3:6]} {number[6:]}" if len(number) == 10 else number


def _day(moment: str) -> str:
    day = datetime.fromisoformat(moment).date() if "T" in moment else date.fromisoformat(moment)
    return day.strftime("%d %b %Y")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    _line(pdf, text, height=7)
    pdf.set_font("Helvetica", "", 10)


def _field(pdf: FPDF, label: str, value: str) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(55, 6, _latin1(label))
    pdf.set_font("Helvetica", "", 10)
    _line(pdf, value)


def _line(pdf: FPDF, text: str, height: float = 6) -> None:
    pdf.multi_cell(0, height, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _latin1(text: str) -> str:
    # The PDF's built-in fonts cover Latin-1 only; anything else shows as "?" rather than
    # failing the message (a font file would cover more, at the cost of shipping one).
    return text.encode("latin-1", "replace").decode("latin-1")
