"""Logs for every socialrx process: one JSON object per line in production, readable text
in dev (Rich's colours on a terminal, plain lines otherwise).

Every line carries the request ID of the HTTP request it was logged for and the trace ID of
the span it was logged in, when there is one.
"""

import json
import logging
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
    """One JSON object per line: time, level, logger, message, request_id, trace_id (and the
    exception's traceback, when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "trace_id": getattr(record, "trace_id", None),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str = "INFO", json_lines: bool = False, stream: IO[str] | None = None) -> None:
    """Send every log record to ``stream`` (stderr): as JSON lines, or readable. Rich draws
    its columns to the terminal's width, so it is used only on a terminal; elsewhere (a file,
    a pipe, a container's log) each record is one unpadded line."""
    stream = stream or sys.stderr
    handler: logging.Handler
    if json_lines:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter())
    elif stream.isatty():
        handler = RichHandler(console=Console(file=stream), rich_tracebacks=True, show_path=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s", datefmt="[%X]"))
    else:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    handler.addFilter(ContextFilter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
