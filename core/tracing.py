"""OpenTelemetry traces: one trace from an HTTP request through the workflow update to the
projection activity and its SQL. Off unless ``SOCIALRX_TRACING__ENABLED``.

What a span may carry: route templates, workflow and activity names, workflow IDs (a UUID),
SQL text with its placeholders. Never a bind value (SQLAlchemy's instrumentation records the
statement, not its parameters) and never a request body.
"""

from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import Engine
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.contrib.opentelemetry._context import attached_context
from temporalio.worker import (
    HandleUpdateInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from core.settings import TracingSettings


def tracer_provider_for(
    tracing: TracingSettings, process: str, exporter: SpanExporter | None = None
) -> TracerProvider:
    """A provider whose spans are named ``<service_name>-<process>`` and sent in batches to
    ``exporter`` (the OTLP endpoint when not given)."""
    resource = Resource.create({SERVICE_NAME: f"{tracing.service_name}-{process}"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(
        BatchSpanProcessor(exporter or OTLPSpanExporter(endpoint=tracing.otlp_endpoint))
    )
    return provider


def start_tracing(tracing: TracingSettings, process: str) -> TracerProvider | None:
    """For a process's composition root: the global provider, when tracing is enabled."""
    if not tracing.enabled:
        return None
    provider = tracer_provider_for(tracing, process)
    trace.set_tracer_provider(provider)
    return provider


def trace_engine(engine: Engine, provider: TracerProvider) -> None:
    """A span for every statement ``engine`` runs (text with placeholders only)."""
    usage = metrics.NoOpMeter(__name__).create_up_down_counter("db.client.connections.usage")
    EngineTracer(provider.get_tracer(__name__), engine, usage)


def untrace_engines() -> None:
    """Stop every ``trace_engine`` (tests share one engine between systems)."""
    EngineTracer.remove_all_event_listeners()


def temporal_tracing(provider: TracerProvider | None = None) -> TracingInterceptor:
    """Carries the trace into workflows and activities, for the client and the worker alike
    (a worker uses its client's interceptors)."""
    tracer = provider.get_tracer(__name__) if provider is not None else None
    return StepsInTheirRequestsTrace(tracer)


class StepsInTheirRequestsTrace(TracingInterceptor):
    """Temporal's interceptor, except that a workflow update (a step) continues the trace of
    the request that sent it. Temporal's own puts everything a workflow does in the trace of
    the request that started the workflow, with only a link to the step's request: an
    operator looking at a slow step would not see its activity and SQL under it."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span extern function
        return _UpdateInItsCallersTrace


class _UpdateInItsCallersTrace(TracingWorkflowInboundInterceptor):
    # Leans on the parent's private members (header_key, _completed_span, ...): check this
    # class when temporalio is upgraded; tests/referrals/test_traces.py fails if it breaks.
    async def handle_update_handler(self, input: HandleUpdateInput) -> object:
        header = input.headers.get(self.header_key)
        if not header:
            return await super().handle_update_handler(input)
        carrier = self.payload_converter.from_payloads([header])[0]
        context = self._set_on_context(self.text_map_propagator.extract(carrier))
        with attached_context(context):
            self._completed_span(f"HandleUpdate:{input.update}", kind=SpanKind.SERVER)
            # The handler itself, without the parent's span in the workflow's trace.
            return await WorkflowInboundInterceptor.handle_update_handler(self, input)
