"""Demo data and accounts to try socialrx with: ``socialrx seed``, and each ``socialrx dev``.

Every loader upserts by id, so loading again changes nothing and is safe on every start.
"""

from typing import Annotated

import typer
from rich.console import Console
from sqlmodel import Session, col, select

from catalogue.demo import load_demo_directory
from core.db import engine_for, migrate, session_scope
from core.settings import Settings, get_settings
from domain.tables import Person
from socialrx.demo import load_demo_people
from socialrx.demo_accounts import load_demo_accounts


def load_demo_data(session: Session) -> None:
    load_demo_people(session)
    load_demo_directory(session)
    load_demo_accounts(session)


TEST_NHS_NUMBER_PREFIX = "999"
"""NHS numbers from 999 000 0000 up are never issued: tests, demos and synthetic data use them."""


def holds_real_referrals(session: Session) -> bool:
    """Whether any referral is of a person with a real NHS number (not the test range)."""
    real = select(Person.referral_id).where(
        col(Person.nhs_number).not_like(f"{TEST_NHS_NUMBER_PREFIX}%")
    )
    return session.exec(real.limit(1)).first() is not None


def demo_refusal(session: Session, settings: Settings, demo: bool) -> str | None:
    """Why demo accounts (with their well-known password and key) must not be made here, or
    None if they may."""
    if settings.env == "production":
        return "SOCIALRX_ENV is production: demo accounts are never made there."
    if not demo and holds_real_referrals(session):
        return (
            "this database holds real referrals: demo accounts, whose password and API key "
            "are published, would open them to anyone. Give --demo if this really is a demo."
        )
    return None


def seed(
    synthetic: Annotated[
        int,
        typer.Option(
            help="Also add this many synthetic referrals (demos and benchmarks only; "
            "no workflows are started, no personal data is made).",
            min=0,
        ),
    ] = 0,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Load even though the database holds referrals with real NHS numbers "
            "(never when SOCIALRX_ENV=production).",
        ),
    ] = False,
) -> None:
    """Load the demo practices, link workers, service directory and accounts (safe to run again)."""
    settings = get_settings()
    url = settings.resolved_database_url
    migrate(url)
    with session_scope(engine_for(url)) as session:
        refusal = demo_refusal(session, settings, demo)
        if refusal is not None:
            Console(stderr=True).print(f"[red]error:[/red] {refusal}", highlight=False)
            raise typer.Exit(1)
        load_demo_data(session)
    typer.echo("demo data loaded")
    if synthetic:
        from socialrx.synthetic import seed_with_progress

        seed_with_progress(engine_for(url), synthetic)
        typer.echo(f"{synthetic} synthetic referrals added")
