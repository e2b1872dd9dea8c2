"""``socialrx users ...`` and ``socialrx keys ...``: who may sign in, and systems' API keys."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session, col, select

from accounts.credentials import (
    AccountError,
    Role,
    add_user,
    commissioner_practices,
    create_api_key,
    deactivate,
    revoke_api_key,
    set_commissioner_practices,
    set_password,
)
from domain.accounts import ApiKey, UserAccount

users_app = typer.Typer(
    help="People who sign in with a password (argon2-hashed), one organisation each.",
    no_args_is_help=True,
)
keys_app = typer.Typer(
    help="API keys for systems (a GP clinical system, an organisation's tool): shown once, "
    "stored hashed, revocable.",
    no_args_is_help=True,
)

RoleArgument = Annotated[
    Role,
    typer.Argument(
        help="practice (ID: ODS code), link_worker (ID: link worker id), link_worker_team "
        "(ID: team id), organisation (ID: catalogue organisation id) or "
        "commissioner (ID: the commissioning body, any name; may read the access log)."
    ),
]
Password = Annotated[
    str,
    typer.Option(
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="At least 10 characters, and not one of the 10,000 most common passwords; "
        "asked for when not given.",
    ),
]


@contextmanager
def _database() -> Iterator[Session]:
    from core.db import engine_for, migrate, session_scope
    from core.settings import get_settings

    url = get_settings().resolved_database_url
    migrate(url)
    with session_scope(engine_for(url)) as session:
        try:
            yield session
        except AccountError as error:
            Console(stderr=True).print(f"[red]error:[/red] {error}", highlight=False)
            raise typer.Exit(1) from error


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="What they sign in with.")],
    role: RoleArgument,
    identifier: Annotated[str, typer.Argument(metavar="ID", help="Whose account it is.")],
    password: Password,
) -> None:
    """Add a user, e.g. `socialrx users add amira link_worker lw-amira`."""
    with _database() as session:
        add_user(session, username, password, role, identifier)
    typer.echo(f"user {username} added")


@users_app.command("list")
def users_list() -> None:
    """Every user, with their organisation and whether they may sign in."""
    with _database() as session:
        users = session.exec(select(UserAccount).order_by(col(UserAccount.username))).all()
    table = Table("username", "organisation kind", "organisation", "link worker", "active")
    for user in users:
        table.add_row(
            user.username,
            str(user.organisation_kind),
            user.organisation_id,
            user.link_worker_id or "",
            "yes" if user.active else "no",
        )
    Console().print(table)


@users_app.command("set-password")
def users_set_password(username: str, password: Password) -> None:
    """Give a user a new password; their open sign-in sessions end."""
    with _database() as session:
        set_password(session, username, password)
    typer.echo(f"password of {username} changed")


@users_app.command("deactivate")
def users_deactivate(username: str) -> None:
    """Stop a user signing in; their open sign-in sessions end. The audit trail keeps them."""
    with _database() as session:
        deactivate(session, username)
    typer.echo(f"user {username} deactivated")


@users_app.command("area")
def users_area(
    commissioner: Annotated[
        str, typer.Argument(help="The commissioning body (the ID its commissioners have).")
    ],
    practices: Annotated[
        list[str] | None,
        typer.Argument(help="ODS codes of the practices in its area; none: every practice."),
    ] = None,
) -> None:
    """Scope a commissioning body's reports to the practices of its area (ICB or place), e.g.
    `socialrx users area millbrook-icb A81001 A81002`. Without practices its commissioners
    see every practice, as an admin does."""
    with _database() as session:
        set_commissioner_practices(session, commissioner, practices or [])
        scope = commissioner_practices(session, commissioner)
    typer.echo(
        f"{commissioner} sees the practices {', '.join(sorted(scope))}"
        if scope
        else f"{commissioner} sees every practice"
    )


@keys_app.command("create")
def keys_create(
    role: RoleArgument,
    identifier: Annotated[str, typer.Argument(metavar="ID", help="Whose key it is.")],
    label: Annotated[str, typer.Option(help="What system uses it.")],
    expires: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="The day (YYYY-MM-DD, UTC) from which the key is refused; none: never.",
        ),
    ] = None,
) -> None:
    """Create a key and print it once: store it in the system now, it cannot be shown again."""
    expires_at = datetime.combine(expires.date(), time(), UTC) if expires else None
    with _database() as session:
        key, plain = create_api_key(session, role, identifier, label, expires_at=expires_at)
    Console(stderr=True).print(f"API key {key.id} for {label}; it is shown only this once:")
    typer.echo(plain)


@keys_app.command("list")
def keys_list() -> None:
    """Every key's id, owner, label, expiry, last use and whether it is revoked (never the
    secret)."""
    with _database() as session:
        keys = session.exec(select(ApiKey).order_by(col(ApiKey.created_at))).all()
    table = Table(
        "id",
        "organisation kind",
        "organisation",
        "label",
        "created",
        "expires",
        "last used",
        "revoked",
    )
    for key in keys:
        table.add_row(
            key.id,
            str(key.organisation_kind),
            key.organisation_id,
            key.label,
            _when(key.created_at),
            _when(key.expires_at),
            _when(key.last_used_at),
            _when(key.revoked_at),
        )
    Console().print(table)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The id `keys list` shows.")]) -> None:
    """Revoke a key: every call with it answers 401 from now on."""
    with _database() as session:
        revoke_api_key(session, key_id)
    typer.echo(f"API key {key_id} revoked")
