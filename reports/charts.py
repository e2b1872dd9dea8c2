"""Charts for the commissioner page, drawn by matplotlib as inline SVG: no JavaScript, no
network, and they print sharply."""

import io
from collections.abc import Sequence
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

from matplotlib.figure import Figure

from reports.funnel import Funnel
from reports.outcomes import Outcomes
from reports.roi import ITEM_LABELS, ReturnOnInvestment
from reports.uptake import Uptake
from reports.waits import Waits

# Labels are names from the directory and the taxonomy: a "$" in one must print as a dollar
# sign, not start mathtext (which draws "$5 or $10" in italics and fails on "$^$": a 500).
matplotlib.rcParams["text.parse_math"] = False

# Charts kept drawn: five on a page, for the few dozen filter sets people look at (~50 KiB each).
CHARTS_KEPT = 256
COLOUR = "#005eb8"  # NHS blue
SECOND = "#7c2855"


def _svg(figure: Figure) -> str:
    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight")
    svg = out.getvalue()
    # Drop the XML prologue and doctype: the SVG goes inline into HTML.
    return svg[svg.index("<svg") :]


def _bars(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    unit: str,
    second: Sequence[float | None] | None = None,
    legend: tuple[str, str] | None = None,
) -> str:
    return _drawn(
        title, tuple(labels), tuple(values), unit, None if second is None else tuple(second), legend
    )


# Drawing a chart costs a few hundred milliseconds, more than the queries of most reports;
# the same figures always draw the same chart, so a chart is drawn again only when one of its
# figures (or words) changed. Keyed by the figures themselves, it can never show stale ones.
@lru_cache(maxsize=CHARTS_KEPT)
def _drawn(
    title: str,
    labels: tuple[str, ...],
    values: tuple[float | None, ...],
    unit: str,
    second: tuple[float | None, ...] | None,
    legend: tuple[str, str] | None,
) -> str:
    figure = Figure(figsize=(4.6, 2.6))
    axes = figure.subplots()
    positions = list(range(len(labels)))
    height = 0.4 if second is not None else 0.7
    shown = [v or 0.0 for v in values]
    axes.barh([p - (height / 2 if second else 0) for p in positions], shown, height, color=COLOUR,
              label=legend[0] if legend else None)  # fmt: skip
    if second is not None:
        axes.barh([p + height / 2 for p in positions], [v or 0.0 for v in second], height,
                  color=SECOND, label=legend[1] if legend else None)  # fmt: skip
    offset = -height / 2 if second is not None else 0.0
    series = [(values, offset)] + ([(second, height / 2)] if second is not None else [])
    for numbers, shift in series:
        for position, value in zip(positions, numbers, strict=True):
            text = "suppressed" if value is None else f"{value:g}{unit}"
            axes.annotate(text, (value or 0.0, position + shift), xytext=(3, 0),
                          textcoords="offset points", va="center", fontsize=6)  # fmt: skip
    axes.set_yticks(positions, labels, fontsize=7)
    axes.invert_yaxis()
    axes.set_title(title, fontsize=9, loc="left")
    axes.tick_params(axis="x", labelsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    if unit == "%":
        axes.set_xlim(0, 110)
    if legend:
        axes.legend(fontsize=7, frameon=False, loc="upper center", ncols=2,
                    bbox_to_anchor=(0.5, -0.08))  # fmt: skip
    return _svg(figure)


def funnel_chart(report: Funnel) -> str:
    return _bars(
        "Referrals reaching each stage",
        [s.stage.replace("_", " ") for s in report.stages],
        [s.count for s in report.stages],
        "",
    )


def waits_chart(report: Waits, most: int = 8) -> str:
    busiest = sorted(report.organisation_response, key=lambda o: -(o.people or 0))[:most]
    rows = [("first contact", report.first_contact)] + [
        (o.organisation_name[:28], o) for o in busiest
    ]
    return _bars(
        "Waits in days: to first contact; busiest organisations' answers",
        [label for label, _ in rows],
        [wait.median_days for _, wait in rows],
        "",
        second=[wait.p90_days for _, wait in rows],
        legend=("median", "90th percentile"),
    )


def uptake_chart(report: Uptake) -> str:
    rows = report.by_category
    return _bars(
        "Uptake by category (% of referrals sent who started)",
        [row.name[:28] for row in rows],
        [row.uptake_pct for row in rows],
        "%",
    )


def outcome_chart(report: Outcomes) -> str:
    positive = report.positive_change
    return _bars(
        "People with positive change (% of those followed up)",
        ["any area", *(a.area.replace("_", " ") for a in positive.areas)],
        [positive.improved_any_area_pct, *(a.improved_pct for a in positive.areas)],
        "%",
    )


def roi_chart(report: ReturnOnInvestment) -> str:
    costed = [item for item in report.items if item.unit_cost is not None]
    return _bars(
        "NHS cost avoided a year, by item (£; negative: cost added)",
        [ITEM_LABELS[item.item] for item in costed],
        [None if i.annual_cost_change is None else -i.annual_cost_change for i in costed],
        "",
    )


def forget_drawn_charts() -> None:
    """Draw every chart afresh: what a page costs when all its figures changed."""
    _drawn.cache_clear()
