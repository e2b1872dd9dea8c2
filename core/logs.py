"""Logs for every socialrx process, with personal data taken out: one JSON object per line
in production, readable text in dev (Rich's colours on a terminal, plain lines otherwise).

Every line carries the request ID of the HTTP request it was logged for and the trace ID of
the span it was logged in, when there is one.
"""

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO

from opentelemetry import trace
from rich.console import Console
from rich.logging import RichHandler

# What the log handlers import, some of it only when they first format a record. A record
# logged by workflow code is formatted inside Temporal's sandbox, whose importer must pass
# these through from the host: a fresh copy of ``rich`` fails there (it reads the working
# directory while loading), and the workflow task then fails on every retry.
LOG_HANDLER_MODULES = ("rich", "opentelemetry")

REQUEST_ID: ContextVar[str | None] = ContextVar("socialrx_request_id", default=None)
"""The ID of the HTTP request being handled (set by api.request_id), for every log line."""

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

REDACTED = "[redacted]"
# Shapes of personal data that must never reach a log, whatever logged it: a database
# driver's error detail, a request line's query string, an exception's message. Emails
# first, so the digits of an address are not half-matched as a phone number.
PERSONAL_DATA_SHAPES = (
    # An email address.
    re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+"),
    # A UK phone number: 0 or +44 then 9 or 10 more digits, spaces, dashes or (0) between.
    re.compile(r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|0)\d(?:[\s-]?\d){8,9}(?!\d)"),
    # An NHS number: 10 digits, plain or spaced 3 3 4 (also with dashes).
    re.compile(r"(?<![\w-])\d{3}[\s-]?\d{3}[\s-]?\d{4}(?![\w-])"),
)


def redact(text: str) -> str:
    for shape in PERSONAL_DATA_SHAPES:
        text = shape.sub(REDACTED, text)
    return text


class PersonalDataFilter(logging.Filter):
    """Rewrites each record so that its message, arguments and exception text hold nothing
    shaped like an NHS number, an email address or a UK phone number. The record is changed
    in place, so every handler after this one sees the redacted text only."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info or record.exc_text:
            # The handler would render the exception from the live object, message and all:
            # render it here instead, as text that can be redacted.
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)  # type: ignore[arg-type]
            message = f"{message}\n{text}"
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record.msg = redact(message)
        record.args = None
        return True


class ContextFilter(logging.Filter):
    """Puts the request ID and trace ID on every record, so any formatter can print them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.trace_id = current_trace_id()
        return True


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, trace_id. A
    traceback is in the message: the personal-data filter puts it there, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "trace_id": getattr(record, "trace_id", None),
        }
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str = "INFO", json_lines: bool = False, stream: IO[str] | None = None) -> None:
    """Send every log record to ``stream`` (stderr as it is at each record): as JSON lines, or
    readable. Rich draws its columns to the terminal's width, so it is used only on a
    terminal; elsewhere (a file, a pipe, a container's log) each record is one unpadded line."""
    handler: logging.Handler
    if json_lines:
        handler = _stream_handler(stream)
        handler.setFormatter(JsonFormatter())
    elif (stream or sys.stderr).isatty():
        console = Console(file=stream) if stream is not None else Console(stderr=True)
        # Plain tracebacks: rich renders its own with syntax highlighting on the thread that
        # logs, which is the event loop for uvicorn errors; the fault suite saw a burst of
        # them during a database outage hold the loop (and /health/ready) for 20 s.
        handler = RichHandler(console=console, rich_tracebacks=False, show_path=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s", datefmt="[%X]"))
    else:
        handler = _stream_handler(stream)
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    handler.addFilter(PersonalDataFilter())  # first: the others see redacted text only
    handler.addFilter(ContextFilter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


def _stream_handler(stream: IO[str] | None) -> logging.Handler:
    return logging.StreamHandler(stream) if stream is not None else _CurrentStderr()


class _CurrentStderr(logging.StreamHandler[IO[str]]):
    """Writes to ``sys.stderr`` as it is when the record comes, like Rich's console (a test
    that captures stderr, or a process that redirects it, sees every line)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # emit runs under the handler's lock
        super().emit(record)
