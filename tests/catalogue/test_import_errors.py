"""Bad input: every rejected record is reported with its id and the reason, the good records
are imported, and a rejected record leaves nothing of itself behind."""

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from catalogue.importer import import_documents, import_file
from catalogue.reader import SourceError
from catalogue.tables import Organization, Service, TaxonomyTerm
from catalogue.validation import RecordKind
from tests.support.hsds import town_service


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_malformed_file_is_refused_as_a_whole(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"id": "svc-1", "name": ')
    with pytest.raises(SourceError, match=r"broken.json: not valid JSON .* line 1 column 25"):
        import_file(engine, path)


def test_bad_lines_of_ndjson_are_reported_and_the_rest_imported(
    engine: Engine, tmp_path: Path
) -> None:
    good = json.dumps(town_service("svc-good"))
    path = write_lines(
        tmp_path / "mixed.ndjson",
        good,
        '{"id": "svc-truncated", "name": "Half a rec',
        '["not", "a", "record"]',
        json.dumps({"id": "svc-wrong-status", "name": "X", "status": "open"}),
    )
    report = import_file(engine, path)
    assert report.imported == {RecordKind.SERVICE: 1}
    rejected = [(r.where, r.record_id, r.reason) for r in report.rejected]
    assert rejected[0][:2] == ("line 2", "svc-truncated")
    assert rejected[0][2].startswith("not valid JSON")
    assert rejected[1] == ("line 3", None, "an HSDS record must be a JSON object")
    assert rejected[2][:2] == ("line 4", "svc-wrong-status")
    assert "$.status: 'open' is not one of" in rejected[2][2]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"minimum_age": "twelve"}, "$.minimum_age: 'twelve' is not of type 'number'"),
        ({"name": None}, "$.name: None is not of type 'string'"),
        ({"phones": [{"number": "01632 960 000"}]}, "$.phones[0]: 'id' is a required property"),
    ],
)
def test_a_schema_failure_names_the_field(
    engine: Engine, change: dict[str, Any], reason: str
) -> None:
    report = import_documents(engine, [town_service("svc-bad") | change])
    assert [(r.record_id, r.reason) for r in report.rejected] == [
        ("svc-bad", f"does not match the HSDS 3.0 service schema: {reason}")
    ]


def test_unknown_taxonomy_term_rejects_the_whole_record(engine: Engine) -> None:
    document = town_service("svc-odd", needs=["sp-arts", "sp-astrology"])
    report = import_documents(engine, [document, town_service("svc-fine")])
    assert [(r.record_id, r.reason) for r in report.rejected] == [
        (
            "svc-odd",
            "$.attributes[1]: unknown taxonomy term 'sp-astrology'; import the term first or "
            "embed it as taxonomy_term",
        )
    ]
    with Session(engine) as session:
        # The organisation, service and phones were written before the bad attribute was met;
        # the record's transaction took them all back. The good record shares the
        # organisation, so check the rejected service's own rows.
        assert session.get(Service, "svc-odd") is None
        assert session.get(Service, "svc-fine") is not None


def test_nothing_of_a_rejected_record_remains(engine: Engine) -> None:
    document = town_service("svc-odd", needs=["sp-astrology"], organization="org-b")
    report = import_documents(engine, [document])
    assert len(report.rejected) == 1
    with Session(engine) as session:
        assert session.get(Organization, "org-b") is None
        assert session.get(Service, "svc-odd") is None


def test_a_term_claiming_the_social_prescribing_taxonomy_must_be_one_of_its_needs(
    engine: Engine,
) -> None:
    document = town_service("svc-odd")
    document["attributes"] = [
        {
            "id": "attr-1",
            "taxonomy_term": {
                "id": "sp-astrology",
                "name": "Astrology",
                "description": "Not a need.",
                "taxonomy_id": "socialrx-social-prescribing",
            },
        }
    ]
    report = import_documents(engine, [document])
    assert report.rejected[0].reason.startswith(
        "taxonomy term 'sp-astrology' is not a social prescribing need; known: sp-arts, "
    )
    with Session(engine) as session:
        assert session.get(TaxonomyTerm, "sp-astrology") is None


def test_shipped_terms_are_not_rewritten_by_imports(engine: Engine) -> None:
    document = town_service("svc-1")
    document["attributes"] = [
        {"id": "a", "taxonomy_term": {"id": "sp-food", "name": "Groceries", "description": "x"}}
    ]
    assert not import_documents(engine, [document]).rejected
    with Session(engine) as session:
        term = session.get(TaxonomyTerm, "sp-food")
        assert term is not None and term.name == "Food"


def test_values_a_column_cannot_hold_are_rejected_with_their_field(engine: Engine) -> None:
    report = import_documents(
        engine,
        [
            town_service("svc-date") | {"assured_date": "last spring"},
            town_service("svc-long") | {"name": "x" * 301},
        ],
    )
    reasons = {r.record_id: r.reason for r in report.rejected}
    assert reasons["svc-date"].startswith("assured_date: 'last spring' cannot be stored")
    assert reasons["svc-long"].startswith("name: ")
    assert "at most 300 characters" in reasons["svc-long"]


def test_a_service_needs_a_known_organization(engine: Engine) -> None:
    orphan = {"id": "svc-orphan", "name": "Orphan", "status": "active"}
    elsewhere = orphan | {"id": "svc-elsewhere", "organization_id": "org-nowhere"}
    report = import_documents(engine, [orphan, elsewhere])
    assert [r.reason for r in report.rejected] == [
        "no organization: give an organization or an organization_id",
        "organization_id 'org-nowhere' is not in the directory",
    ]


def test_capacity_must_not_be_negative(engine: Engine) -> None:
    document = town_service("svc-1", capacity={"available": -2, "maximum": 5})
    report = import_documents(engine, [document])
    assert report.rejected[0].reason == "$.capacities[0].available: must be a number >= 0"


def test_records_of_unknown_kind_are_reported(engine: Engine) -> None:
    report = import_documents(engine, [{"id": "x", "name": "What am I?"}])
    assert report.rejected[0].reason == (
        "cannot tell what kind of HSDS record this is; pass --kind"
    )
