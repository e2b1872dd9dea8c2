"""Prometheus metrics of the API: requests by route template and status, their latencies,
steps refused with 409, and the read model's business gauges, collected at each scrape.

Labels are route templates (``/referrals/{referral_id}``), never raw paths, so no identifier
or personal detail reaches a series. Each process counts its own requests: with several API
processes, scrape each (or run one process per container).
"""

import secrets
import time
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import EngineDep, SettingsDep
from reports.signals import operational_counts

REQUESTS = Counter(
    "socialrx_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "socialrx_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
STEPS_REFUSED = Counter(
    "socialrx_steps_refused",
    "Steps refused with 409: not possible in the referral's state, or the referral is closed.",
)
UNMATCHED_ROUTE = "unmatched"
"""The route label of a request no route matched (a 404, a static file): never its path."""

router = APIRouter(tags=["metrics"])


class RequestMetrics:
    """Counts and times every HTTP request (pure ASGI, so it sees the status of every answer,
    the middleware's own 413s included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answered = {"status": 500}  # what an exception that escapes every handler becomes

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", UNMATCHED_ROUTE)
            method = scope["method"]
            REQUESTS.labels(method, template, str(answered["status"])).inc()
            REQUEST_SECONDS.labels(method, template).observe(time.perf_counter() - started)


class BusinessGauges(Collector):
    """The read model's numbers, queried when Prometheus scrapes (in the route's thread)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = operational_counts(self.engine)
        open_referrals = GaugeMetricFamily(
            "socialrx_open_referrals", "Open referrals, by status.", labels=["status"]
        )
        for referral_status, count in counts.open_referrals.items():
            open_referrals.add_metric([referral_status.value], count)
        overdue = GaugeMetricFamily(
            "socialrx_overdue_tasks", "Open tasks past their due time, by kind.", labels=["kind"]
        )
        for kind, count in counts.overdue_tasks.items():
            overdue.add_metric([kind.value], count)
        outbox = GaugeMetricFamily(
            "socialrx_outbox_messages",
            "Outbox messages waiting to be sent (pending) or given up on (dead).",
            labels=["status"],
        )
        for outbox_status, count in counts.outbox.items():
            outbox.add_metric([outbox_status.value], count)
        yield from (open_referrals, overdue, outbox)
        yield GaugeMetricFamily(
            "socialrx_oldest_unanswered_service_referral_seconds",
            "How long the oldest service referral an organisation has not answered has waited.",
            value=counts.oldest_unanswered_service_referral_seconds,
        )


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, engine: EngineDep, settings: SettingsDep) -> Response:
    """Prometheus' scrape. A plain ``def``: the business gauges query the database, so this
    runs in a worker thread. With a token set, only a caller that sends it is answered; with
    none, production does not serve metrics at all."""
    token = settings.metrics.token.get_secret_value()
    if token:
        sent = request.headers.get("authorization", "")
        if not secrets.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    elif settings.env == "production":
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    business = CollectorRegistry(auto_describe=False)
    business.register(BusinessGauges(engine))
    body = generate_latest(REGISTRY) + generate_latest(business)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
