"""A relay in a process of its own, to be killed mid-batch by a test.

``python -m tests.messages.relay_process DATABASE_URL RECEIVER_FILE HANG_AT``: relays every
message to a channel that appends its dedupe key to RECEIVER_FILE (the receiving end), and
hangs for good right after delivering the HANG_AT-th message, before the relay can record it:
the worst moment to die. Like a provider with an idempotency key, the receiving end takes a key
it already holds as done.
"""

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from activities.relay import OutboxRelay
from core.db import make_engine
from core.settings import OutboxSettings
from domain.enums import RecipientKind
from domain.tables import OutboxMessage

LEASE = timedelta(seconds=30)


class FileChannel:
    name = "file"

    def __init__(self, receiver: Path, hang_at: int) -> None:
        self._receiver = receiver
        self._hang_at = hang_at
        self._received = 0

    def send(self, message: OutboxMessage) -> None:
        if self._receiver.exists() and message.dedupe_key in self.received():
            return
        with self._receiver.open("a") as receiver:
            receiver.write(f"{message.dedupe_key}\n")
            receiver.flush()
            os.fsync(receiver.fileno())
        self._received += 1
        if self._received == self._hang_at:
            time.sleep(3600)

    def received(self) -> list[str]:
        return self._receiver.read_text().splitlines() if self._receiver.exists() else []


def main() -> None:
    url, receiver, hang_at = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    channel = FileChannel(receiver, hang_at)
    relay = OutboxRelay(
        make_engine(url),
        {RecipientKind.ORGANISATION: channel},
        OutboxSettings(batch_size=10, lease=LEASE),
        name="doomed-relay",
    )
    while True:
        relay.run_once()


if __name__ == "__main__":
    main()
