"""The logging set-up of every ``socialrx`` process (core.logs.configure), for a test, with
the test's own handlers after it; the root logger is restored afterwards."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from core.logs import configure


@contextmanager
def real_logging(
    *extra: logging.Handler, json_lines: bool = False, stream: IO[str] | None = None
) -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure("INFO", json_lines=json_lines, stream=stream)
    for handler in extra:
        root.addHandler(handler)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
