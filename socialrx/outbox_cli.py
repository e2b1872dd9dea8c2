"""The outbox relay as the composition root builds it, ``socialrx relay`` to run it on its
own, and ``socialrx outbox list|retry`` for admins to see and resend dead letters."""

import asyncio
import logging
import signal
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from activities.channels import Channel
from activities.channels.email import EmailChannel
from activities.channels.mesh import MeshChannel, collect_acknowledgements
from activities.channels.notify import NotifyChannel
from activities.outbox_admin import NotRetryable, list_messages, retry_message
from activities.relay import OutboxRelay
from core.settings import Settings, get_settings
from domain.enums import OutboxStatus, RecipientKind

log = logging.getLogger(__name__)
outbox_app = typer.Typer(
    help="The outbox of messages to GPs, organisations, link workers and people: see what "
    "is pending or dead, and send a dead message again.",
    no_args_is_help=True,
)


def build_channels(
    settings: Settings, engine: Engine, gp: Channel | None = None
) -> dict[RecipientKind, Channel]:
    """Each recipient kind's channel. A channel without settings says NotConfigured and its
    messages stay pending; with no ``gp`` channel, messages to practices do the same."""
    email = EmailChannel(engine, settings.smtp, settings.public_url, settings.action_links)
    channels: dict[RecipientKind, Channel] = {
        RecipientKind.ORGANISATION: email,
        RecipientKind.LINK_WORKER: email,
        RecipientKind.PERSON: NotifyChannel(settings.notify),
    }
    if gp is not None:
        channels[RecipientKind.PRACTICE] = gp
    return channels


def build_relay(settings: Settings, engine: Engine) -> OutboxRelay:
    gp = MeshChannel(engine, settings.mesh, settings.measures)
    return OutboxRelay(engine, build_channels(settings, engine, gp), settings.outbox)


async def collect_acknowledgements_forever(settings: Settings, engine: Engine) -> None:
    """Read the GP systems' ITK3 acknowledgements from our MESH inbox every few minutes (a
    no-op while MESH is not configured); a database outage is logged and waited out."""
    while True:
        try:
            await asyncio.to_thread(collect_acknowledgements, engine, settings.mesh)
        except Exception:
            log.exception("collecting MESH acknowledgements failed; trying again")
        await asyncio.sleep(settings.outbox.not_configured_recheck.total_seconds())


def relay() -> None:
    """Run the outbox relay on its own (the worker runs one too); run as many as you like:
    each message is claimed by one. SIGTERM stops it after the message in hand."""
    from core import logs
    from core.db import engine_for, migrate

    settings = get_settings()
    logs.configure(settings.log_level, json_lines=settings.json_logs)
    migrate(settings.resolved_database_url, settings.migration_database_url)
    asyncio.run(
        _relay_until_stopped(build_relay(settings, engine_for(settings.resolved_database_url)))
    )


async def _relay_until_stopped(outbox_relay: OutboxRelay) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await outbox_relay.run_forever(stop)
    log.info("outbox relay stopped")


def _engine() -> Engine:
    from core.db import engine_for, migrate

    url = get_settings().resolved_database_url
    migrate(url)
    return engine_for(url)


@outbox_app.command("list")
def outbox_list(
    status: Annotated[
        OutboxStatus | None, typer.Option(help="Only messages with this status, e.g. dead.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
) -> None:
    """Messages newest first: kind, recipient, status, attempts and the kind of the last
    error. Never the payload, which holds personal details."""
    table = Table(
        "id", "kind", "recipient", "status", "attempts", "created", "next attempt", "last error"
    )
    for entry in list_messages(_engine(), status, limit):
        table.add_row(
            str(entry.id),
            entry.kind,
            f"{entry.recipient_kind}:{entry.recipient_id}",
            entry.status,
            str(entry.attempts),
            f"{entry.created_at:%Y-%m-%d %H:%M}",
            f"{entry.next_attempt_at:%Y-%m-%d %H:%M}" if entry.next_attempt_at else "",
            entry.last_error or "",
        )
    Console(width=200).print(table)


@outbox_app.command("retry")
def outbox_retry(
    message_id: Annotated[int, typer.Argument(metavar="ID", help="A dead message's id.")],
) -> None:
    """Send a dead message again: pending, due now, attempts from zero."""
    try:
        retry_message(_engine(), message_id)
    except (LookupError, NotRetryable) as error:
        Console(stderr=True).print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(1) from error
    typer.echo(f"outbox message {message_id} is pending again")
