"""Dead letters for admins: listed without payloads, sent again on request, counted."""

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from activities.channels import PermanentFailure
from activities.outbox_admin import NotRetryable, count_by_status, list_messages, retry_message
from activities.relay import OutboxRelay
from activities.senders import LogSender
from core.settings import get_settings
from domain.enums import OutboxStatus, RecipientKind
from socialrx.cli import app
from tests.support.outbox import FAST, load, queue


class Refusing:
    name = "refusing"

    def send(self, message: object) -> None:
        raise PermanentFailure("recipient refused (550)")


def one_dead_one_sent_one_pending(engine: Engine) -> tuple[int, int, int]:
    (dead,) = queue(engine, 1)
    OutboxRelay(engine, {RecipientKind.ORGANISATION: Refusing()}, FAST).drain()
    (sent,) = queue(engine, 1)
    OutboxRelay(engine, {RecipientKind.ORGANISATION: LogSender()}, FAST).drain()
    (pending,) = queue(engine, 1)
    return dead, sent, pending


def test_dead_letters_are_listed_counted_and_sent_again(engine: Engine) -> None:
    dead, sent, pending = one_dead_one_sent_one_pending(engine)

    assert [entry.id for entry in list_messages(engine)] == [pending, sent, dead]
    (entry,) = list_messages(engine, OutboxStatus.DEAD)
    assert (entry.id, entry.attempts) == (dead, 1)
    assert entry.last_error == "PermanentFailure: recipient refused (550)"
    assert "payload" not in entry.model_dump()
    assert [e.id for e in list_messages(engine, limit=1, before_id=sent)] == [dead]
    assert count_by_status(engine) == {
        OutboxStatus.PENDING: 1,
        OutboxStatus.SENT: 1,
        OutboxStatus.DEAD: 1,
    }

    retried = retry_message(engine, dead)
    assert (retried.status, retried.attempts) == (OutboxStatus.PENDING, 0)
    OutboxRelay(engine, {RecipientKind.ORGANISATION: LogSender()}, FAST).drain()
    assert load(engine, dead).status == OutboxStatus.SENT


def test_only_a_dead_message_can_be_retried(engine: Engine) -> None:
    _, sent, pending = one_dead_one_sent_one_pending(engine)
    for message_id in (sent, pending):
        with pytest.raises(NotRetryable, match="not dead"):
            retry_message(engine, message_id)
    with pytest.raises(LookupError):
        retry_message(engine, 999_999)
    assert load(engine, sent).status == OutboxStatus.SENT


def test_the_cli_lists_dead_letters_and_retries_one(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead, sent, _ = one_dead_one_sent_one_pending(engine)
    monkeypatch.setenv("SOCIALRX_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        listed = runner.invoke(app, ["outbox", "list", "--status", "dead"])
        assert listed.exit_code == 0, listed.output
        assert "recipient refused (550)" in listed.output
        assert "│ dead " in listed.output
        assert "│ sent " not in listed.output and "│ pending " not in listed.output

        refused = runner.invoke(app, ["outbox", "retry", str(sent)])
        assert refused.exit_code == 1
        assert "not dead" in refused.output

        retried = runner.invoke(app, ["outbox", "retry", str(dead)])
        assert retried.exit_code == 0, retried.output
        assert load(engine, dead).status == OutboxStatus.PENDING
    finally:
        get_settings.cache_clear()
