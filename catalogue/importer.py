"""Import HSDS records, one transaction per record: a record that fails leaves nothing behind,
and every rejected record is reported with its id and the reason."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from catalogue.hsds_fields import FieldRejected
from catalogue.reader import SourceRecord, read_source
from catalogue.record_writer import (
    RecordRejected,
    write_organization,
    write_service,
    write_service_at_location_record,
    write_taxonomy_term,
)
from catalogue.taxonomy import ensure_social_prescribing_taxonomy
from catalogue.validation import RecordKind, detect_kind, schema_problem

_WRITERS: dict[RecordKind, Callable[[Session, dict[str, Any]], object]] = {
    RecordKind.SERVICE: write_service,
    RecordKind.ORGANIZATION: write_organization,
    RecordKind.SERVICE_AT_LOCATION: write_service_at_location_record,
    RecordKind.TAXONOMY_TERM: write_taxonomy_term,
}


@dataclass(frozen=True)
class Rejection:
    where: str
    record_id: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.where} (id {self.record_id or 'missing'}): {self.reason}"


@dataclass
class ImportReport:
    imported: dict[RecordKind, int] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def imported_total(self) -> int:
        return sum(self.imported.values())


def import_file(
    engine: Engine,
    path: Path,
    kind: RecordKind | None = None,
    on_total: Callable[[int], None] | None = None,
    on_record: Callable[[], None] | None = None,
) -> ImportReport:
    """Import every record of ``path``; raises ``SourceError`` if the file cannot be read."""
    source = read_source(path)
    if on_total:
        on_total(source.total)
    return import_records(engine, source.records, kind, on_record)


def import_records(
    engine: Engine,
    records: Iterable[SourceRecord],
    kind: RecordKind | None = None,
    on_record: Callable[[], None] | None = None,
) -> ImportReport:
    """Import records; ``kind`` None means each record's kind is recognised from its keys."""
    with Session(engine) as session, session.begin():
        ensure_social_prescribing_taxonomy(session)
    report = ImportReport()
    for record in records:
        outcome = _import_one(engine, record, kind)
        if isinstance(outcome, Rejection):
            report.rejected.append(outcome)
        else:
            report.imported[outcome] = report.imported.get(outcome, 0) + 1
        if on_record:
            on_record()
    return report


def import_documents(
    engine: Engine, documents: Iterable[dict[str, Any]], kind: RecordKind | None = None
) -> ImportReport:
    records = (SourceRecord(f"item {n}", doc) for n, doc in enumerate(documents, start=1))
    return import_records(engine, records, kind)


def _import_one(
    engine: Engine, record: SourceRecord, kind: RecordKind | None
) -> RecordKind | Rejection:
    def rejected(reason: str) -> Rejection:
        return Rejection(record.where, record.record_id, reason)

    if record.problem:
        return rejected(record.problem)
    if not isinstance(record.document, dict):
        return rejected("an HSDS record must be a JSON object")
    record_kind = kind or detect_kind(record.document)
    if record_kind is None:
        return rejected("cannot tell what kind of HSDS record this is; pass --kind")
    problem = schema_problem(record_kind, record.document)
    if problem:
        return rejected(f"does not match the HSDS 3.0 {record_kind} schema: {problem}")
    try:
        with Session(engine) as session, session.begin():
            _WRITERS[record_kind](session, record.document)
    except (RecordRejected, FieldRejected) as error:
        return rejected(str(error))
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        return rejected(f"the database refused it: {str(cause).splitlines()[0]}")
    return record_kind
