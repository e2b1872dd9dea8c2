"""The child processes of ``socialrx dev``: started with prefixed output, stopped without orphans.

Each child runs in its own process group, so a Ctrl-C in the terminal reaches only
``socialrx dev``, which then stops the children in the reverse order of their start: the API
stops taking requests before the worker goes, and the worker goes before Temporal.
"""

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import IO

from rich.console import Console
from rich.text import Text

STOP_TIMEOUT_SECONDS = 10.0
PREFIX_WIDTH = 10


class StopRequested(BaseException):
    """SIGINT or SIGTERM arrived. A BaseException, so no ``except Exception`` swallows it."""


class StopSignals:
    """Turns SIGINT and SIGTERM into StopRequested, except while a critical step runs."""

    def __init__(self) -> None:
        self._deferring = False
        self._pending: str | None = None

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
        if self._pending is not None:
            raise StopRequested(self._pending)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._deferring:
            self._pending = name
        else:
            raise StopRequested(name)


@dataclass
class Child:
    name: str
    process: "subprocess.Popen[bytes]"
    output: threading.Thread

    @property
    def exit_code(self) -> int | None:
        return self.process.poll()

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Ask the child to stop, wait, and kill it if it does not stop in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # Whatever the child printed last is still worth seeing.
        self.output.join(timeout=2)


@dataclass
class Children:
    """The processes ``socialrx dev`` started, in start order."""

    console: Console
    stop_signals: StopSignals = field(default_factory=StopSignals)
    started: list[Child] = field(default_factory=list)

    def start(
        self, name: str, command: Sequence[str], style: str, env: dict[str, str] | None = None
    ) -> Child:
        child_env = dict(os.environ if env is None else env)
        child_env.update(self._output_env())
        # A stop between the fork and the bookkeeping would orphan the new child, so a stop
        # signal arriving meanwhile takes effect once the child is on the list.
        with self.stop_signals.deferred():
            process = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=child_env,
                process_group=0,
            )
            assert process.stdout is not None
            prefix = Text(f"{name:<{PREFIX_WIDTH}}│ ", style=style)
            output = threading.Thread(
                target=self._relay,
                args=(process.stdout, prefix),
                name=f"{name}-output",
                daemon=True,
            )
            output.start()
            child = Child(name=name, process=process, output=output)
            self.started.append(child)
        return child

    def first_exited(self) -> Child | None:
        return next((child for child in self.started if child.exit_code is not None), None)

    def watch(self, poll_seconds: float = 0.2) -> Child:
        """Block until some child exits, and return it."""
        while (exited := self.first_exited()) is None:
            time.sleep(poll_seconds)
        return exited

    def kill_all(self) -> None:
        for child in self.started:
            if child.exit_code is None:
                child.process.kill()

    def stop_all(self) -> None:
        # A second Ctrl-C while stopping means "now": kill what is left instead of waiting.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self.kill_all())
        for child in reversed(self.started):
            if child.exit_code is None:
                self.console.print(f"[dim]stopping {child.name}…[/]")
            child.stop()

    def _output_env(self) -> dict[str, str]:
        # Children log with rich too: in a terminal they colour and fit their lines to it
        # beside the prefix; into a file or pipe they keep long lines whole.
        if not self.console.is_terminal:
            return {"PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        width = max(self.console.width - PREFIX_WIDTH - 2, 60)
        return {"PYTHONUNBUFFERED": "1", "COLUMNS": str(width), "FORCE_COLOR": "1"}

    def _relay(self, stream: IO[bytes], prefix: Text) -> None:
        for raw in iter(stream.readline, b""):
            line = Text.from_ansi(raw.decode("utf-8", errors="replace").rstrip("\n"))
            self.console.print(prefix + line, soft_wrap=True, highlight=False)
        stream.close()
