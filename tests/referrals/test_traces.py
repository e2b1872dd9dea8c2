"""With tracing on, one step is one trace: the HTTP request, the workflow update, the
projection activity and its SQL. No span carries a person's details or a bind value."""

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from core.tracing import temporal_tracing, untrace_engines
from tests.support.driver import Driver
from tests.support.system import running_system

CONTACT_ROUTE = "/referrals/{referral_id}/contact-attempts"


@pytest.fixture
async def traced(
    time_skipping_env: WorkflowEnvironment, engine: Engine, settings: Settings
) -> AsyncIterator[tuple[Driver, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    plain = time_skipping_env.client
    client = Client(
        plain.service_client,
        namespace=plain.namespace,
        data_converter=plain.data_converter,
        interceptors=[temporal_tracing(provider)],
    )
    env = WorkflowEnvironment.from_client(client)
    try:
        async with running_system(env, engine, settings, False, provider) as driver:
            yield driver, exporter
    finally:
        untrace_engines()


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    names = []
    parent = span.parent
    while parent is not None and parent.span_id in by_id:
        above = by_id[parent.span_id]
        names.append(above.name)
        parent = above.parent
    return names


def everything_said(spans: Sequence[ReadableSpan]) -> str:
    said: list[Any] = []
    for span in spans:
        said += [span.name, *(span.attributes or {}).values()]
        for event in span.events:
            said += [event.name, *(event.attributes or {}).values()]
    return "\n".join(map(str, said))


async def test_a_step_is_one_trace_from_http_to_the_database(
    traced: tuple[Driver, InMemorySpanExporter],
) -> None:
    driver, exporter = traced
    referral_id = await driver.submit()
    exporter.clear()

    await driver.contact(referral_id)

    spans = exporter.get_finished_spans()
    (http,) = [
        s
        for s in spans
        if s.kind == SpanKind.SERVER and (s.attributes or {}).get("http.route") == CONTACT_ROUTE
    ]
    assert http.parent is None  # the request starts the trace
    in_trace = [s for s in spans if s.context.trace_id == http.context.trace_id]
    by_id = {s.context.span_id: s for s in in_trace}
    run_projection = [s for s in in_trace if s.name == "RunActivity:apply_projection"]
    assert run_projection, sorted(s.name for s in in_trace)
    sql_in_projection = [
        s
        for s in in_trace
        if s.kind == SpanKind.CLIENT and "RunActivity:apply_projection" in ancestors(s, by_id)
    ]
    assert sql_in_projection, "the projection's SQL is not in the trace"
    chain = ancestors(sql_in_projection[0], by_id)
    assert chain[-1] == http.name
    assert "StartWorkflowUpdate:record_contact_attempt" in chain
    # The workflow's handling of the update is in the request's trace too.
    (handled,) = [s for s in spans if s.name == "HandleUpdate:record_contact_attempt"]
    assert handled.context.trace_id == http.context.trace_id
    # SQL with placeholders, never the values bound to them.
    statements = [str((s.attributes or {}).get("db.statement", "")) for s in sql_in_projection]
    assert any("INSERT" in st or "UPDATE" in st for st in statements), statements


async def test_no_span_carries_personal_details(
    traced: tuple[Driver, InMemorySpanExporter],
) -> None:
    driver, exporter = traced
    referral_id = await driver.submit()
    await driver.contact(referral_id)
    await driver.assess(referral_id)

    said = everything_said(exporter.get_finished_spans())
    # The person's details as submitted, and the notes the steps wrote (bind values of the
    # projection's INSERTs): none is in any span.
    details = driver.personal_details()
    assert details
    leaked = [detail for detail in details if detail in said]
    assert leaked == []
