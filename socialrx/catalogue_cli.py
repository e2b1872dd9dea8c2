"""``socialrx catalogue ...``: import and export the HSDS directory."""

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

catalogue_app = typer.Typer(
    help="The community-service directory (HSDS 3.0).", no_args_is_help=True
)

# Below this many records the import is over before a bar would be worth drawing.
PROGRESS_FROM = 200


class KindOption(StrEnum):
    AUTO = "auto"
    SERVICE = "service"
    ORGANIZATION = "organization"
    SERVICE_AT_LOCATION = "service_at_location"
    TAXONOMY_TERM = "taxonomy_term"


@catalogue_app.command("import")
def import_command(
    path: Annotated[
        Path, typer.Argument(help="HSDS 3.0 JSON: one record, a paged list, or ndjson.")
    ],
    kind: Annotated[
        KindOption, typer.Option(help="What the records are; auto recognises each from its keys.")
    ] = KindOption.AUTO,
) -> None:
    """Validate each record against the HSDS 3.0 schema and upsert the good ones by id.

    Every rejected record is listed with its id and the reason; running it twice changes nothing.
    """
    from catalogue.importer import import_file
    from catalogue.reader import SourceError
    from catalogue.validation import RecordKind
    from core.db import engine_for, migrate
    from core.settings import get_settings

    errors = Console(stderr=True)
    url = get_settings().resolved_database_url
    migrate(url)
    record_kind = None if kind is KindOption.AUTO else RecordKind(kind.value)
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )
    task = progress.add_task("import", total=None)

    def on_total(total: int) -> None:
        progress.update(task, total=total)
        progress.disable = total < PROGRESS_FROM or not errors.is_terminal

    with progress:
        try:
            report = import_file(
                engine_for(url),
                path,
                record_kind,
                on_total=on_total,
                on_record=lambda: progress.advance(task),
            )
        except SourceError as error:
            errors.print(
                f"[red]cannot import:[/red] {escape(str(error))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(1) from error
    for rejection in report.rejected:
        errors.print(f"rejected {rejection}", markup=False, highlight=False, soft_wrap=True)
    kinds = ", ".join(f"{count} {kind}" for kind, count in report.imported.items()) or "nothing"
    typer.echo(f"imported {kinds}; rejected {len(report.rejected)}")
    if report.rejected:
        raise typer.Exit(1)


class FormatOption(StrEnum):
    NDJSON = "ndjson"
    JSON = "json"


@catalogue_app.command("export")
def export_command(
    path: Annotated[
        Path | None, typer.Argument(help="Where to write; standard output when omitted.")
    ] = None,
    export_format: Annotated[
        FormatOption,
        typer.Option("--format", help="ndjson: one service a line; json: one paged list."),
    ] = FormatOption.NDJSON,
) -> None:
    """Write every service as a fully nested HSDS 3.0 record, ready to import elsewhere."""
    from sqlmodel import Session

    from catalogue.exporter import ExportFormat, export_services
    from core.db import engine_for, migrate
    from core.settings import get_settings

    url = get_settings().resolved_database_url
    migrate(url)
    with Session(engine_for(url)) as session:
        if path is None:
            count = export_services(session, sys.stdout, ExportFormat(export_format.value))
        else:
            with path.open("w", encoding="utf-8") as out:
                count = export_services(session, out, ExportFormat(export_format.value))
    Console(stderr=True).print(f"exported {count} services", highlight=False)
