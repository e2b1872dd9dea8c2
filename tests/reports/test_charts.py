"""Charts are kept drawn by their figures: the same figures give the same chart without
drawing it again, and a changed figure draws a new one."""

from reports.charts import _drawn, forget_drawn_charts, funnel_chart
from reports.funnel import Funnel, FunnelStage


def _funnel(referred: int) -> Funnel:
    return Funnel(
        stages=[
            FunnelStage(stage="referred", count=referred, conversion_pct=None, of_referred_pct=100),
            FunnelStage(stage="contacted", count=7, conversion_pct=None, of_referred_pct=None),
        ]
    )


def test_a_chart_is_drawn_again_only_when_a_figure_changed() -> None:
    forget_drawn_charts()
    first = funnel_chart(_funnel(10))
    assert funnel_chart(_funnel(10)) == first
    assert _drawn.cache_info().hits == 1
    changed = funnel_chart(_funnel(11))
    assert changed != first
    assert _drawn.cache_info().misses == 2
