"""Readable logs for every socialrx process, with personal data taken out."""

import logging
import re

from rich.logging import RichHandler

# What the log handler imports, some of it only when it first formats a record. A record
# logged by workflow code is formatted inside Temporal's sandbox, whose importer must pass
# these through from the host: a fresh copy of ``rich`` fails there (it reads the working
# directory while loading), and the workflow task then fails on every retry.
LOG_HANDLER_MODULES = ("rich",)

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


def configure(level: str = "INFO") -> None:
    handler = RichHandler(rich_tracebacks=True, show_path=False)
    handler.addFilter(PersonalDataFilter())
    logging.basicConfig(
        level=level.upper(),
        format="%(name)s: %(message)s",
        datefmt="[%X]",
        handlers=[handler],
        force=True,
    )
