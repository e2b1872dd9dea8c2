"""``socialrx person export|correct|erase``: a person's rights from the command line, for the
admins who answer subject access, correction and erasure requests (the same as
``/admin/people/*`` and ``PATCH /referrals/{id}/contact-details``)."""

import getpass
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlmodel import Session

from activities.records import OpenReferral, erase_person, person_record, person_record_pdf
from api.errors import Refused
from api.records import ContactCorrection, apply_correction
from api.schemas import nhs_number_digits
from core.settings import get_settings
from domain.accounts import AccessLog
from domain.enums import ActorKind, OrganisationKind, PreferredContact
from domain.messages import Actor

person_app = typer.Typer(
    help="A person's records: a copy of everything held about them, correcting their contact "
    "details, or erasing them early.",
    no_args_is_help=True,
)
CLI_ACTOR = Actor(kind=ActorKind.ADMIN, id="cli")


def _nhs_number(value: str) -> str:
    try:
        return nhs_number_digits(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


NhsNumber = Annotated[
    str,
    typer.Option("--nhs-number", help="The person's NHS number (10 digits).", callback=_nhs_number),
]


def _session() -> Session:
    from core.db import engine_for, migrate

    url = get_settings().resolved_database_url
    migrate(url)
    return Session(engine_for(url), expire_on_commit=False)


def _log_access(session: Session, action: str, referral_ids: Iterable[UUID]) -> None:
    """The access log, as the API writes it: who (the operating-system user), what, which
    referral; never the NHS number."""
    subject = f"cli:{getpass.getuser()}"[:64]
    for referral_id in referral_ids:
        session.add(
            AccessLog(
                subject=subject,
                organisation_kind=OrganisationKind.COMMISSIONER,
                organisation_id="cli",
                action=action,
                referral_id=referral_id,
            )
        )
    session.commit()


def _refuse(message: str, code: int) -> typer.Exit:
    Console(stderr=True).print(f"[red]refused:[/red] {message}", highlight=False)
    return typer.Exit(code)


@person_app.command("export")
def export(
    nhs_number: NhsNumber,
    out: Annotated[
        Path, typer.Option(help="The folder to write the JSON and the PDF into.")
    ] = Path("."),
) -> None:
    """Subject access: write everything held about a person as JSON and a readable PDF."""
    with _session() as session:
        record = person_record(session, nhs_number)
        _log_access(session, "CLI person export", record.referral_ids)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"person-record-{datetime.now():%Y%m%dT%H%M%S}"
    json_file, pdf_file = out / f"{stem}.json", out / f"{stem}.pdf"
    json_file.write_text(json.dumps(record.as_json(), indent=2, ensure_ascii=False), "utf-8")
    pdf_file.write_bytes(person_record_pdf(record))
    typer.echo(f"{len(record.referrals)} referral(s) written to {json_file} and {pdf_file}")


@person_app.command("erase")
def erase(
    nhs_number: NhsNumber,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be undone.")] = False,
) -> None:
    """Erase a person early, where that is lawful: redact their details, notes and messages
    as retention would. Refused while a referral of theirs is open."""
    if not yes:
        raise typer.BadParameter("erasing cannot be undone: add --yes to confirm")
    with _session() as session:
        try:
            redacted = erase_person(session, nhs_number, CLI_ACTOR)
        except OpenReferral as refusal:
            raise _refuse(str(refusal), 1) from None
        _log_access(session, "CLI person erase", redacted)
    typer.echo(f"{len(redacted)} referral(s) redacted")


ContactOption = Annotated[str | None, typer.Option(help="New value; an empty one removes it.")]


@person_app.command("correct")
def correct(
    referral_id: Annotated[UUID, typer.Option("--referral-id", help="The referral's ID.")],
    phone: ContactOption = None,
    email: ContactOption = None,
    address: ContactOption = None,
    preferred_contact: Annotated[
        PreferredContact | None, typer.Option(help="How the person wants to be contacted.")
    ] = None,
) -> None:
    """Correct a person's contact details on a referral, as the practice or the link worker's
    team would: audited with the names of the fields changed, never their values."""
    given = {"phone": phone, "email": email, "address": address}
    asked: dict[str, str | None] = {
        name: value.strip() or None for name, value in given.items() if value is not None
    }
    if preferred_contact is not None:
        asked["preferred_contact"] = preferred_contact
    try:
        correction = ContactCorrection.model_validate(asked)
    except ValidationError as error:
        # Each field and what is wrong with it; never the value given.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise _refuse(problems, 2) from None
    with _session() as session:
        try:
            after = apply_correction(session, referral_id, correction, CLI_ACTOR)
        except Refused as refusal:
            fix = refusal.status_code in (400, 404, 422)
            raise _refuse(refusal.message, 2 if fix else 1) from None
        _log_access(session, "CLI person correct", [referral_id])
    typer.echo(f"contact details of referral {referral_id}: preferred {after.preferred_contact}")
