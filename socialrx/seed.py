"""Demo data and accounts to try socialrx with: ``socialrx seed``, and each ``socialrx dev``.

Every loader upserts by id, so loading again changes nothing and is safe on every start.
"""

from typing import Annotated

import typer
from sqlmodel import Session

from catalogue.demo import load_demo_directory
from core.db import engine_for, migrate, session_scope
from core.settings import get_settings
from socialrx.demo import load_demo_people
from socialrx.demo_accounts import load_demo_accounts


def load_demo_data(session: Session) -> None:
    load_demo_people(session)
    load_demo_directory(session)
    load_demo_accounts(session)


def seed(
    synthetic: Annotated[
        int,
        typer.Option(
            help="Also add this many synthetic referrals (demos and benchmarks only; "
            "no workflows are started, no personal data is made).",
            min=0,
        ),
    ] = 0,
) -> None:
    """Load the demo practices, link workers, service directory and accounts (safe to run again)."""
    url = get_settings().resolved_database_url
    migrate(url)
    with session_scope(engine_for(url)) as session:
        load_demo_data(session)
    typer.echo("demo data loaded")
    if synthetic:
        from socialrx.synthetic import seed_with_progress

        seed_with_progress(engine_for(url), synthetic)
        typer.echo(f"{synthetic} synthetic referrals added")
