"""Readable logs for every socialrx process."""

import logging

from rich.logging import RichHandler

# What the log handler imports, some of it only when it first formats a record. A record
# logged by workflow code is formatted inside Temporal's sandbox, whose importer must pass
# these through from the host: a fresh copy of ``rich`` fails there (it reads the working
# directory while loading), and the workflow task then fails on every retry.
LOG_HANDLER_MODULES = ("rich",)


def configure(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(name)s: %(message)s",
        datefmt="[%X]",
        # Plain tracebacks: rich renders its own with syntax highlighting on the thread that
        # logs, which is the event loop for uvicorn errors; the fault suite saw a burst of
        # them during a database outage hold the loop (and /health/ready) for 20 s.
        handlers=[RichHandler(rich_tracebacks=False, show_path=False)],
        force=True,
    )
