"""Logs: one JSON object per line in production, with the request's ID and the trace's ID;
plain unpadded lines when the output is not a terminal; and X-Request-ID on every answer."""

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

from api.main import create_app
from api.request_id import HEADER
from core import logs
from core.settings import Settings

log = logging.getLogger("socialrx.test.signals")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def lines_of(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_time_level_logger_message_and_ids(restore_logging: None) -> None:
    stream = io.StringIO()
    logs.configure("INFO", json_lines=True, stream=stream)
    tracer = TracerProvider().get_tracer(__name__)

    log.info("outside any request: %s", "plain")
    with tracer.start_as_current_span("work") as span:
        log.warning("inside a span")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("it failed")

    outside, inside, failed = lines_of(stream)
    assert set(outside) == {"time", "level", "logger", "message", "request_id", "trace_id"}
    assert outside["level"] == "INFO"
    assert outside["logger"] == "socialrx.test.signals"
    assert outside["message"] == "outside any request: plain"
    assert str(outside["time"]).endswith("+00:00")
    assert outside["request_id"] is None and outside["trace_id"] is None
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    # The personal-data filter renders the traceback into the message, to redact it too.
    assert "ValueError: boom" in str(failed["message"])


def test_off_a_terminal_each_record_is_one_unpadded_line(restore_logging: None) -> None:
    stream = io.StringIO()
    logs.configure("INFO", stream=stream)
    long_message = "word " * 40  # wider than any terminal default

    log.info(long_message.strip())
    log.info("short")

    first, second = stream.getvalue().splitlines()
    assert first.endswith(long_message.strip())
    assert second.endswith("INFO socialrx.test.signals: short")
    assert not second.startswith(" ")


async def get(settings: Settings, path: str, headers: dict[bytes, bytes]) -> httpx.Response:
    app = create_app(settings)

    @app.get("/logs-a-line")
    def logs_a_line() -> dict[str, str]:
        log.info("handling")
        return {}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://socialrx.test") as http:
        return await http.get(path, headers=headers)


async def test_a_request_id_is_kept_returned_and_logged(
    settings: Settings, restore_logging: None
) -> None:
    stream = io.StringIO()
    logs.configure("INFO", json_lines=True, stream=stream)

    response = await get(settings, "/logs-a-line", {HEADER.encode(): b"lb-7f3a.91:2"})

    assert response.headers[HEADER] == "lb-7f3a.91:2"
    (handled,) = [line for line in lines_of(stream) if line["message"] == "handling"]
    assert handled["request_id"] == "lb-7f3a.91:2"


@pytest.mark.parametrize(
    "sent",
    ["", "x" * 65, 'quote"and space', "semi;colon", "ünïcode"],
    ids=["empty", "too-long", "quote", "semicolon", "non-ascii"],
)
async def test_an_unacceptable_request_id_is_replaced(settings: Settings, sent: str) -> None:
    response = await get(settings, "/health/live", {HEADER.encode(): sent.encode()})
    returned = response.headers[HEADER]
    assert returned != sent
    assert len(returned) == 32 and int(returned, 16) >= 0


async def test_without_one_each_answer_gets_a_fresh_request_id(settings: Settings) -> None:
    first = await get(settings, "/health/live", {})
    second = await get(settings, "/no-such-page", {})
    assert second.status_code == 404
    assert first.headers[HEADER] != second.headers[HEADER]


@pytest.mark.parametrize(
    ("env", "log_format", "json_lines"),
    [
        ("production", "auto", True),
        ("dev", "auto", False),
        ("dev", "json", True),
        ("production", "text", False),
    ],
)
def test_production_logs_json_unless_told_otherwise(
    env: str, log_format: str, json_lines: bool
) -> None:
    settings = Settings.model_validate({"env": env, "log_format": log_format})
    assert settings.json_logs is json_lines
