"""The ``socialrx`` command."""

import typer

from socialrx import (
    bench_catalogue,
    bench_fleet,
    bench_lifecycle,
    bench_load,
    bench_pages,
    bench_reports,
    codec_server,
    dev,
    seed,
    serve,
)
from socialrx.accounts_cli import keys_app, users_app
from socialrx.catalogue_cli import catalogue_app
from socialrx.outbox_cli import outbox_app, relay
from socialrx.people_cli import person_app

app = typer.Typer(
    help="socialrx: durable social prescribing referrals on Temporal.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(outbox_app, name="outbox")
app.add_typer(person_app, name="person")
bench_app = typer.Typer(
    help="Benchmarks that print their figures and ratios.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")
app.command("dev")(dev.dev)
app.command("worker")(serve.worker)
app.command("api")(serve.api)
app.command("relay")(relay)
app.command("seed")(seed.seed)
app.command("codec-server")(codec_server.codec_server)
app.command("payload-key")(codec_server.payload_key)
bench_app.command("lifecycle")(bench_lifecycle.lifecycle)
bench_app.command("catalogue")(bench_catalogue.catalogue)
bench_app.command("reports")(bench_reports.reports)
bench_app.command("pages")(bench_pages.pages)
bench_app.command("load")(bench_load.load)
bench_app.command("fleet")(bench_fleet.fleet)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from core.db import migrate as run_migrations
    from core.settings import get_settings

    settings = get_settings()
    run_migrations(settings.resolved_database_url, settings.migration_database_url)
    typer.echo("database is up to date")


if __name__ == "__main__":
    app()
