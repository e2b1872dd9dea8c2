"""The outbox relay: at least once out, exactly once in effect, on SQLite and PostgreSQL."""

import asyncio
import logging
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from activities.channels import NotConfigured, PermanentFailure, TemporaryFailure
from activities.relay import OutboxRelay, pruned_payload
from activities.senders import LogSender
from core.settings import OutboxSettings
from domain.enums import OutboxStatus, RecipientKind
from domain.tables import OutboxMessage, utcnow
from tests.messages.relay_process import LEASE, FileChannel
from tests.support.outbox import FAST, load, queue

ROOT = Path(__file__).parents[2]
ORGANISATION = RecipientKind.ORGANISATION


class Recording:
    """The receiving end: every delivery, in order, from any thread."""

    name = "recording"

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.delivered: list[str] = []
        self.tries = 0
        self._failures = failures
        self._error = error or TemporaryFailure("provider busy (429)")
        self._lock = threading.Lock()

    def send(self, message: OutboxMessage) -> None:
        with self._lock:
            self.tries += 1
            if self.tries <= self._failures:
                raise self._error
            self.delivered.append(message.dedupe_key)


def statuses(engine: Engine) -> dict[int, OutboxStatus]:
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        return {m.id: m.status for m in rows if m.id is not None}


def test_a_message_that_fails_three_times_then_succeeds_is_sent_on_the_fourth(
    engine: Engine,
) -> None:
    (message_id,) = queue(engine, 1)
    channel = Recording(failures=3)

    OutboxRelay(engine, {ORGANISATION: channel}, FAST).drain()

    message = load(engine, message_id)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 4)
    assert message.sent_at is not None and message.claimed_by is None
    assert message.last_error == "TemporaryFailure: provider busy (429)"
    assert channel.delivered == [message.dedupe_key]


def test_a_message_that_always_fails_is_dead_after_the_configured_attempts(
    engine: Engine,
) -> None:
    (message_id,) = queue(engine, 1)
    channel = Recording(failures=1000)
    settings = FAST.model_copy(update={"max_attempts": 5})

    OutboxRelay(engine, {ORGANISATION: channel}, settings).drain()

    message = load(engine, message_id)
    assert (message.status, message.attempts, channel.tries) == (OutboxStatus.DEAD, 5, 5)
    assert message.sent_at is None and message.next_attempt_at is None
    # A dead message is not tried again.
    assert OutboxRelay(engine, {ORGANISATION: channel}, settings).drain().claimed == 0


def test_a_permanent_failure_is_dead_at_once(engine: Engine) -> None:
    (message_id,) = queue(engine, 1)
    channel = Recording(failures=1, error=PermanentFailure("recipient refused (550)"))

    OutboxRelay(engine, {ORGANISATION: channel}, FAST).drain()

    message = load(engine, message_id)
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 1)
    assert message.last_error == "PermanentFailure: recipient refused (550)"


def test_an_unexpected_error_is_retried_and_keeps_only_its_type(engine: Engine) -> None:
    (message_id,) = queue(engine, 1)
    channel = Recording(failures=1, error=ValueError("Marigold Featherstonehaugh 07700 900461"))

    OutboxRelay(engine, {ORGANISATION: channel}, FAST).drain()

    message = load(engine, message_id)
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)
    assert message.last_error == "ValueError"


def test_a_failed_message_waits_for_its_backoff(engine: Engine) -> None:
    (message_id,) = queue(engine, 1)
    channel = Recording(failures=1)
    settings = OutboxSettings(retry_base=timedelta(minutes=1))
    relay = OutboxRelay(engine, {ORGANISATION: channel}, settings, jitter=lambda: 1.0)

    started = utcnow()
    assert relay.drain().retrying == 1  # and then nothing is due

    message = load(engine, message_id)
    assert message.status == OutboxStatus.PENDING and message.next_attempt_at is not None
    assert timedelta(seconds=59) < message.next_attempt_at - started < timedelta(seconds=61)
    later = OutboxRelay(
        engine, {ORGANISATION: channel}, settings, clock=lambda: utcnow() + timedelta(minutes=2)
    )
    assert later.drain().sent == 1


def test_backoff_doubles_up_to_its_ceiling_with_jitter(engine: Engine) -> None:
    settings = OutboxSettings(retry_base=timedelta(seconds=10), retry_max=timedelta(minutes=1))
    most = OutboxRelay(engine, {}, settings, jitter=lambda: 1.0)
    least = OutboxRelay(engine, {}, settings, jitter=lambda: 0.0)
    assert [most.backoff(n).total_seconds() for n in (1, 2, 3, 4, 60)] == [10, 20, 40, 60, 60]
    assert [least.backoff(n).total_seconds() for n in (1, 2, 3)] == [5, 10, 20]


def test_without_a_configured_channel_messages_stay_pending_and_uncounted(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    class Unconfigured:
        name = "unconfigured"

        def send(self, message: OutboxMessage) -> None:
            raise NotConfigured("SMTP host is not set")

    organisation_ids = queue(engine, 2)
    practice_ids = queue(engine, 2, recipient_kind=RecipientKind.PRACTICE)
    relay = OutboxRelay(engine, {ORGANISATION: Unconfigured()}, FAST)

    with caplog.at_level(logging.INFO, logger="activities.relay"):
        relay.run_once()
        relay.run_once()

    for message_id in organisation_ids + practice_ids:
        message = load(engine, message_id)
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)
        assert message.claimed_by is None
    said = [r.getMessage() for r in caplog.records if "stay pending" in r.getMessage()]
    assert said == [
        "messages to organisation recipients stay pending: SMTP host is not set",
        "messages to practice recipients stay pending: no channel for practice recipients",
    ]
    # Looked at again after a while; once the channel is configured, they go.
    assert OutboxRelay(engine, {ORGANISATION: LogSender()}, FAST).drain().claimed == 0
    recheck = utcnow() + FAST.not_configured_recheck + timedelta(seconds=1)
    configured = OutboxRelay(engine, {ORGANISATION: LogSender()}, FAST, clock=lambda: recheck)
    assert configured.drain().sent == 2


def test_a_claimed_message_is_left_alone_until_its_lease_lapses(engine: Engine) -> None:
    (message_id,) = queue(engine, 1)
    holder = Recording()
    first = OutboxRelay(engine, {ORGANISATION: holder}, FAST, name="first")
    (claimed,) = first._claim()  # claimed, then the relay stalls before sending
    other = Recording()

    assert OutboxRelay(engine, {ORGANISATION: other}, FAST).run_once().claimed == 0
    later = OutboxRelay(
        engine,
        {ORGANISATION: other},
        FAST,
        name="later",
        clock=lambda: utcnow() + FAST.lease + timedelta(seconds=1),
    )
    assert later.run_once().sent == 1
    # The stalled relay wakes up, sends (the provider's idempotency key makes that harmless)
    # and finds its claim gone: the outcome already recorded stands.
    result = first.run_once()
    assert result.claimed == 0
    first._deliver(claimed, result)
    assert result.lease_lost == 1
    assert load(engine, message_id).attempts == 1


def test_two_relays_racing_deliver_each_message_exactly_once(engine: Engine) -> None:
    queue(engine, 120)
    channel = Recording()
    settings = FAST.model_copy(update={"batch_size": 7})
    relays = [OutboxRelay(engine, {ORGANISATION: channel}, settings) for _ in range(3)]
    passes: dict[str, int] = Counter()
    start = threading.Barrier(len(relays))

    def run(relay: OutboxRelay) -> None:
        start.wait()
        passes[relay.name] = relay.drain().sent

    threads = [threading.Thread(target=run, args=(relay,)) for relay in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(Counter(channel.delivered).values()) == [1] * 120
    assert set(statuses(engine).values()) == {OutboxStatus.SENT}
    assert sum(passes.values()) == 120


def test_a_relay_killed_mid_batch_loses_nothing_and_repeats_nothing(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    ids = queue(engine, 25)
    receiver = tmp_path / "received.txt"
    doomed = subprocess.Popen(
        [sys.executable, "-m", "tests.messages.relay_process", database_url, str(receiver), "13"],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while len(FileChannel(receiver, 0).received()) < 13:
            assert doomed.poll() is None, "the relay process ended on its own"
            assert time.monotonic() < deadline, "the relay process never got to message 13"
            time.sleep(0.05)
    finally:
        doomed.kill()  # SIGKILL: no cleanup of any kind
        doomed.wait()

    # Batches of ten: twelve recorded as sent; the thirteenth delivered but not recorded, and
    # the rest of its batch still claimed by the dead relay; the last five never claimed.
    with Session(engine) as session:
        messages = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    assert [m.status for m in messages] == [OutboxStatus.SENT] * 12 + [OutboxStatus.PENDING] * 13
    assert [m.claimed_by for m in messages[12:20]] == ["doomed-relay"] * 8
    assert [m.claimed_by for m in messages[20:]] == [None] * 5

    # A relay started at once takes what nobody holds, and not what the dead one still does.
    restarted = OutboxRelay(engine, {ORGANISATION: FileChannel(receiver, 0)}, OutboxSettings())
    assert restarted.drain().sent == 5
    # Once the dead relay's lease lapses, the rest go.
    after_lease = OutboxRelay(
        engine,
        {ORGANISATION: FileChannel(receiver, 0)},
        OutboxSettings(),
        clock=lambda: utcnow() + LEASE + timedelta(seconds=1),
    )
    assert after_lease.drain().sent == 8

    received = Counter(FileChannel(receiver, 0).received())
    keys = {load(engine, message_id).dedupe_key for message_id in ids}
    assert set(received) == keys
    assert set(received.values()) == {1}
    assert set(statuses(engine).values()) == {OutboxStatus.SENT}


def test_sent_messages_lose_their_personal_payload_after_the_configured_time(
    engine: Engine,
) -> None:
    payload = {
        "referral_id": "r-1",
        "kind": "organisation_referral",
        "service_id": "svc-walks",
        "respond_by": "2026-03-14T00:00:00+00:00",
        "person": {"given_name": "Marigold", "phone": "07700 900461"},
        "reason": "low mood",
        "nhs_number": "9434765919",
    }
    (sent_id,) = queue(engine, 1, payload=payload)
    relay = OutboxRelay(engine, {ORGANISATION: Recording()}, FAST)
    assert relay.drain().sent == 1
    (pending_id,) = queue(engine, 1, payload=payload)

    assert relay.prune() == 0  # sent just now: kept for prune_after
    month_later = OutboxRelay(
        engine, {}, FAST, clock=lambda: utcnow() + FAST.prune_after + timedelta(days=1)
    )
    assert month_later.prune() == 1
    assert month_later.prune() == 0

    pruned = load(engine, sent_id)
    assert (
        pruned.payload
        == pruned_payload(payload)
        == {
            "referral_id": "r-1",
            "kind": "organisation_referral",
            "service_id": "svc-walks",
            "respond_by": "2026-03-14T00:00:00+00:00",
        }
    )
    assert pruned.payload_pruned_at is not None and pruned.sent_at is not None
    assert load(engine, pending_id).payload == payload


async def test_the_relay_loop_sends_what_is_queued_while_it_runs_and_stops_when_told(
    engine: Engine,
) -> None:
    channel = Recording()
    relay = OutboxRelay(engine, {ORGANISATION: channel}, FAST)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run_forever(stop))
    queue(engine, 25)  # more than a batch: the loop goes on without waiting between batches
    deadline = time.monotonic() + 30
    while len(channel.delivered) < 25:
        assert time.monotonic() < deadline, "the relay loop did not send everything"
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(running, timeout=5)
    assert set(statuses(engine).values()) == {OutboxStatus.SENT}
