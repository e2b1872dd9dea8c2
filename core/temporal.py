"""The one way this project connects to Temporal: the settings' address, TLS and API key, the
pydantic data converter with payload encryption when keys are set, and a deadline on every
call the API makes."""

import asyncio
import dataclasses
import shutil
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import (
    Client,
    DescribeWorkflowInput,
    Interceptor,
    OutboundInterceptor,
    QueryWorkflowInput,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    TerminateWorkflowInput,
    WorkflowHandle,
    WorkflowUpdateHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig

from core.payload_encryption import EncryptionCodec, decode_keys
from core.settings import MetricsSettings, Settings, TemporalConnectionSettings
from core.tracing import temporal_tracing

# Without encryption: for tests and tools that handle payloads themselves.
DATA_CONVERTER = pydantic_data_converter


def data_converter_for(temporal: TemporalConnectionSettings) -> DataConverter:
    """The pydantic data converter, encrypting payloads when keys are configured."""
    codec = payload_codec_for(temporal)
    if codec is None:
        return DATA_CONVERTER
    return dataclasses.replace(DATA_CONVERTER, payload_codec=codec)


def payload_codec_for(temporal: TemporalConnectionSettings) -> EncryptionCodec | None:
    if not temporal.payload_keys:
        return None
    keys = {key_id: key.get_secret_value() for key_id, key in temporal.payload_keys.items()}
    return EncryptionCodec(decode_keys(keys))


def tls_for(temporal: TemporalConnectionSettings) -> TLSConfig | bool:
    if not temporal.uses_tls:
        return False
    return TLSConfig(
        server_root_ca_cert=_read(temporal.server_ca),
        domain=temporal.server_name or None,
        client_cert=_read(temporal.client_cert),
        client_private_key=_read(temporal.client_key),
    )


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A client with the settings' connection, and the trace carried into Temporal when
    tracing is on. ``runtime``: the worker's, to serve the SDK's metrics (see runtime_for)."""
    temporal = settings.temporal
    interceptors = interceptors_for(temporal)
    if settings.tracing.enabled:
        interceptors.append(temporal_tracing())
    return await Client.connect(
        settings.resolved_temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter_for(temporal),
        tls=tls_for(temporal),
        api_key=temporal.api_key.get_secret_value() or None,
        connect_timeout=temporal.rpc_timeout,
        interceptors=interceptors,
        runtime=runtime,
    )


def runtime_for(metrics: MetricsSettings) -> Runtime | None:
    """A Temporal runtime that serves the SDK's metrics (workflow and activity task latencies,
    poll counts, sticky cache) for Prometheus at ``worker_address``; None when not set."""
    if not metrics.worker_address:
        return None
    prometheus = PrometheusConfig(bind_address=metrics.worker_address)
    return Runtime(telemetry=TelemetryConfig(metrics=prometheus))


def interceptors_for(temporal: TemporalConnectionSettings) -> list[Interceptor]:
    return [BoundedCalls(temporal.rpc_timeout, temporal.step_timeout)]


class StepNotTaken(Exception):
    """No worker took a workflow update within the step timeout. The update may still be
    admitted, and then applied when a worker comes back."""


class BoundedCalls(Interceptor):
    """Every call the API makes to Temporal ends: each RPC gets ``rpc_timeout`` unless it
    names its own, and an update (which waits for a worker to take it, forever when none
    runs) gives up after ``step_timeout`` with ``StepNotTaken``."""

    def __init__(self, rpc_timeout: timedelta, step_timeout: timedelta) -> None:
        self.rpc_timeout = rpc_timeout
        self.step_timeout = step_timeout

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _BoundedOutbound(next, self)


class _BoundedOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, bounds: BoundedCalls) -> None:
        super().__init__(next)
        self.bounds = bounds

    def _deadline(self, rpc_timeout: timedelta | None) -> timedelta:
        return rpc_timeout or self.bounds.rpc_timeout

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        input.rpc_timeout = self._deadline(input.rpc_timeout)
        return await super().start_workflow(input)

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        input.rpc_timeout = self._deadline(input.rpc_timeout)
        return await super().query_workflow(input)

    async def describe_workflow(self, input: DescribeWorkflowInput) -> Any:
        input.rpc_timeout = self._deadline(input.rpc_timeout)
        return await super().describe_workflow(input)

    async def terminate_workflow(self, input: TerminateWorkflowInput) -> None:
        input.rpc_timeout = self._deadline(input.rpc_timeout)
        await super().terminate_workflow(input)

    async def start_workflow_update(
        self, input: StartWorkflowUpdateInput
    ) -> WorkflowUpdateHandle[Any]:
        step_timeout = self.bounds.step_timeout
        input.rpc_timeout = min(self._deadline(input.rpc_timeout), step_timeout)
        try:
            async with asyncio.timeout(step_timeout.total_seconds()):
                return await super().start_workflow_update(input)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
            if _cancelled_from_outside():
                raise
            raise StepNotTaken(f"no worker took the update within {step_timeout}") from error


def _cancelled_from_outside() -> bool:
    """Whether the task was cancelled by its caller (a closed request), not by our timeout."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def installed_binary(name: str) -> str:
    """Path of a Temporal binary installed from PyPI (never downloaded at run time)."""
    beside_python = Path(sys.executable).parent / name
    path = str(beside_python) if beside_python.exists() else shutil.which(name)
    if path is None:
        raise RuntimeError(
            f"'{name}' is not installed; run `pip install -e '.[test]'` in this virtualenv"
        )
    return path
