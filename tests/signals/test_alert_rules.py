"""The alert rules parse, and every metric they use is one the app exports (or Prometheus'
own ``up``, or the Temporal SDK's from the worker)."""

import json
import re
from pathlib import Path

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from api.main import create_app
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "socialrx.json"
PROMETHEUS_OWN = {"up"}
# The worker's SDK metrics the rules use; the SDK names them (tests/signals/test_worker_metrics).
TEMPORAL_SDK = {"temporal_workflow_task_schedule_to_start_latency"}
SUFFIXES = ("_bucket", "_count", "_sum", "_total")
PROMQL_WORDS = {
    "sum", "max", "min", "rate", "by", "le", "or", "absent", "offset", "histogram_quantile",
    "job", "status", "kind", "route", "d", "m", "h", "s",
}  # fmt: skip


async def exported_names(settings: Settings) -> set[str]:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://socialrx.test") as http:
        await http.get("/health/live")  # so the request series have a sample
        text = (await http.get("/metrics")).text
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }


def metric_names_in(expr: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', "", expr)
    words = set(re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", without_strings))
    return {w for w in words if w not in PROMQL_WORDS}


def test_the_rules_parse_and_cover_what_the_issue_asks() -> None:
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    names = {rule["alert"] for rule in rules}
    for wanted in ("WorkerDown", "DeadLetters", "OverdueTasksGrowing", "Http5xxRate"):
        assert f"Socialrx{wanted}" in names
    for rule in rules:
        assert rule["expr"] and rule["annotations"]["summary"], rule["alert"]


async def test_every_metric_a_rule_uses_is_exported(settings: Settings) -> None:
    exported = await exported_names(settings)
    known = exported | PROMETHEUS_OWN | {t + s for t in TEMPORAL_SDK for s in ("", *SUFFIXES)}
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    for rule in rules:
        used = metric_names_in(rule["expr"])
        assert used, rule["alert"]
        unknown = used - known
        assert not unknown, f"{rule['alert']} uses {unknown}, which nothing exports"


async def test_every_metric_the_dashboard_plots_is_exported(settings: Settings) -> None:
    exported = await exported_names(settings)
    known = exported | PROMETHEUS_OWN | {t + s for t in TEMPORAL_SDK for s in ("", *SUFFIXES)}
    panels = json.loads(DASHBOARD.read_text())["panels"]
    exprs = [target["expr"] for panel in panels for target in panel["targets"]]
    assert len(exprs) >= 8
    for expr in exprs:
        unknown = metric_names_in(expr) - known
        assert not unknown, f"the dashboard plots {unknown}, which nothing exports"
