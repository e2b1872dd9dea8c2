"""The official HSDS 3.0 examples import, and export back as equivalent documents.

Equivalent means equal as JSON values after one documented normalisation: export adds
``taxonomy_term_id`` to an attribute that embedded its ``taxonomy_term`` (the id is the
embedded term's id; both forms are valid HSDS). Numbers compare by value (12 == 12.0) and key
order does not matter.
"""

import gzip
import io
import json
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from catalogue.documents import DocumentBuilder, one_to_one
from catalogue.exporter import ExportFormat, export_services
from catalogue.importer import import_file
from catalogue.reader import read_source
from catalogue.tables import Organization, Service, ServiceAtLocation, TaxonomyTerm
from catalogue.validation import SCHEMA_FILE
from tests.support.hsds import HSDS, load_json

SERVICE_ID = "ac148810-d857-441c-9679-408f346de14b"


def without_added_term_ids(document: Any, original: Any) -> Any:
    """Drop the taxonomy_term_id that export adds where the original only embedded the term."""
    if isinstance(document, dict) and isinstance(original, dict):
        cleaned = {
            key: without_added_term_ids(value, original.get(key)) for key, value in document.items()
        }
        if "taxonomy_term" in original and "taxonomy_term_id" not in original:
            cleaned.pop("taxonomy_term_id", None)
        return cleaned
    if isinstance(document, list) and isinstance(original, list):
        return [without_added_term_ids(a, b) for a, b in zip(document, original, strict=False)]
    return document


def assert_equivalent(exported: Any, original: Any) -> None:
    assert without_added_term_ids(exported, original) == original


def import_example(engine: Engine, name: str) -> None:
    report = import_file(engine, HSDS / name)
    assert not report.rejected, report.rejected
    assert report.imported_total == 1


def test_the_packaged_schema_is_the_shipped_one() -> None:
    packaged = json.loads(gzip.decompress(SCHEMA_FILE.read_bytes()))
    assert packaged == load_json("schema_compiled_service.json")


def test_full_service_round_trips(engine: Engine) -> None:
    import_example(engine, "examples_service_full.json")
    with Session(engine) as session:
        service = session.get(Service, SERVICE_ID)
        assert service is not None
        exported = DocumentBuilder(session).service(service)
    assert_equivalent(exported, load_json("examples_service_full.json"))


def test_service_list_round_trips(engine: Engine) -> None:
    import_example(engine, "examples_service_list.json")
    original = load_json("examples_service_list.json")["contents"][0]
    with Session(engine) as session:
        service = session.get(Service, SERVICE_ID)
        assert service is not None
        organization = session.get(Organization, service.organization_id)
        exported = DocumentBuilder(session).service_list_item(service, organization)
    assert_equivalent(exported, original)


def test_full_organization_round_trips(engine: Engine) -> None:
    import_example(engine, "examples_organization_full.json")
    original = load_json("examples_organization_full.json")
    with Session(engine) as session:
        organization = session.get(Organization, original["id"])
        assert organization is not None
        exported = DocumentBuilder(session).organization(organization, with_services=True)
    assert_equivalent(exported, original)


def test_full_service_at_location_round_trips(engine: Engine) -> None:
    import_example(engine, "examples_service_at_location_full.json")
    original = load_json("examples_service_at_location_full.json")
    with Session(engine) as session:
        link = session.get(ServiceAtLocation, original["id"])
        assert link is not None
        exported = DocumentBuilder(session).service_at_location(link)
    assert_equivalent(exported, original)


def test_taxonomy_term_list_round_trips(engine: Engine) -> None:
    import_example(engine, "examples_taxonomy_term_list.json")
    original = load_json("examples_taxonomy_term_list.json")["contents"][0]
    with Session(engine) as session:
        term = session.get(TaxonomyTerm, original["id"])
        assert term is not None
        assert_equivalent(DocumentBuilder(session).taxonomy_term(term), original)


def test_a_list_record_after_a_full_one_keeps_the_detail(engine: Engine) -> None:
    import_example(engine, "examples_service_full.json")
    import_example(engine, "examples_service_list.json")
    with Session(engine) as session:
        service = session.get(Service, SERVICE_ID)
        assert service is not None
        exported = DocumentBuilder(session).service(service)
    assert_equivalent(exported, load_json("examples_service_full.json"))


def row_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.name: session.exec(select(func.count()).select_from(table)).one()
            for table in SQLModel.metadata.sorted_tables
        }


def export_text(engine: Engine, export_format: ExportFormat) -> str:
    out = io.StringIO()
    with Session(engine) as session:
        export_services(session, out, export_format)
    return out.getvalue()


def test_importing_twice_changes_nothing(engine: Engine) -> None:
    for name in ("examples_service_full.json", "examples_organization_full.json"):
        import_example(engine, name)
    counts, exported = row_counts(engine), export_text(engine, ExportFormat.NDJSON)
    for name in ("examples_service_full.json", "examples_organization_full.json"):
        import_example(engine, name)
    assert row_counts(engine) == counts
    assert export_text(engine, ExportFormat.NDJSON) == exported


@pytest.mark.parametrize("export_format", list(ExportFormat))
def test_an_export_imports_back_to_the_same_directory(
    engine: Engine, tmp_path: Any, export_format: ExportFormat
) -> None:
    import_example(engine, "examples_service_full.json")
    exported = export_text(engine, export_format)
    path = tmp_path / f"export.{export_format.value}"
    path.write_text(exported)
    assert read_source(path).total == 1

    with Session(engine) as session:
        # Start again from an empty directory, as another system importing the export would.
        for table in reversed(SQLModel.metadata.sorted_tables):
            session.exec(table.delete())
        session.commit()
    report = import_file(engine, path)
    assert not report.rejected
    assert export_text(engine, export_format) == exported


def test_list_form_has_only_one_to_one_fields(engine: Engine) -> None:
    import_example(engine, "examples_service_full.json")
    with Session(engine) as session:
        service = session.get(Service, SERVICE_ID)
        assert service is not None
        document = DocumentBuilder(session).service(service)
    assert one_to_one(document).keys() <= document.keys()
    assert not any(isinstance(value, list) for value in one_to_one(document).values())
