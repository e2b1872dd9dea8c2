"""Subject access: an admin gets everything held about a person, as JSON and as a readable
PDF, from the API or the CLI; nobody else may ask, and the NHS number is never logged."""

import io
import json
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from accounts.credentials import set_commissioner_practices
from domain.accounts import AccessLog
from socialrx.cli import app
from tests.support.people_records import (
    MESSAGE_PHONE,
    NOTE_TEXT,
    ZOFIA,
    ZOFIA_NAME,
    KnownPeople,
)
from tests.support.reports import COMMISSIONER, signed_in_as

EXPORT = "/admin/people/export"


async def export(api: httpx.AsyncClient, caller: str, **body: str) -> httpx.Response:
    return await api.post(EXPORT, json=body, headers=await signed_in_as(api, caller))


async def test_the_json_holds_every_kind_of_record_of_each_referral(
    api: httpx.AsyncClient, known_people: KnownPeople
) -> None:
    response = await export(api, COMMISSIONER, nhs_number=ZOFIA)
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["nhs_number"] == ZOFIA
    referrals = record["referrals"]
    assert [r["referral"]["id"] for r in referrals] == [str(i) for i in known_people.zofia]
    first = referrals[0]
    assert (first["person"]["given_name"], first["person"]["family_name"]) == ZOFIA_NAME
    assert first["consent"]["preferred_contact"] == "phone"
    assert [e["action"] for e in first["timeline"]] == ["assessed"]
    # The note a step carried, not the hidden one of a refused step.
    assert [n["text"] for n in first["notes"]] == [NOTE_TEXT]
    assert [t["kind"] for t in first["tasks"]] == ["first_contact"]
    assert [s["id"] for s in first["service_referrals"]] == [str(known_people.service_referral)]
    assert first["measures"][0]["answers"] == {"item1": 3}
    assert {m["kind"] for m in first["messages"]} == {
        "person_link_worker_will_contact",
        "gp_outcome",
    }
    assert any(m["payload"].get("phone") == MESSAGE_PHONE for m in first["messages"])
    # The access log: the link worker's read, and this export itself.
    actions = [entry["action"] for entry in first["access_log"]]
    assert "GET /referrals/{referral_id}" in actions
    assert referrals[1]["notes"] == [] and referrals[1]["measures"] == []


async def test_the_pdf_is_readable_and_names_the_person_in_their_own_script(
    api: httpx.AsyncClient, known_people: KnownPeople
) -> None:
    response = await export(api, COMMISSIONER, nhs_number=ZOFIA, format="pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Wiśniewska" in text
    assert NOTE_TEXT in text
    assert "Referral 2 of 2" in text
    assert "Who looked at or changed the record" in text


async def test_a_number_with_nothing_held_gives_an_empty_record(api: httpx.AsyncClient) -> None:
    response = await export(api, COMMISSIONER, nhs_number="9434765919")
    assert response.status_code == 200
    assert response.json()["referrals"] == []


async def test_an_invalid_nhs_number_is_refused_saying_what_to_fix(
    api: httpx.AsyncClient,
) -> None:
    response = await export(api, COMMISSIONER, nhs_number="1234567890")
    assert response.status_code == 422
    assert "NHS number" in response.text
    response = await export(api, COMMISSIONER, nhs_number=ZOFIA, format="docx")
    assert response.status_code == 422


@pytest.mark.parametrize(
    "caller",
    ["practice:A81001", "organisation:org-millbrook-leisure-trust", "link_worker:lw-ben"],
)
async def test_only_an_admin_may_export_or_erase(
    api: httpx.AsyncClient, known_people: KnownPeople, caller: str
) -> None:
    assert (await export(api, caller, nhs_number=ZOFIA)).status_code == 404
    erased = await api.post(
        "/admin/people/erase", json={"nhs_number": ZOFIA}, headers=await signed_in_as(api, caller)
    )
    assert erased.status_code == 404
    assert (await api.post(EXPORT, json={"nhs_number": ZOFIA})).status_code == 401


async def test_the_export_is_in_the_access_log_without_the_nhs_number(
    api: httpx.AsyncClient, known_people: KnownPeople, engine: Engine
) -> None:
    assert (await export(api, COMMISSIONER, nhs_number=ZOFIA)).status_code == 200
    with Session(engine) as session:
        rows = session.exec(select(AccessLog).where(AccessLog.action == f"POST {EXPORT}")).all()
    assert sorted(str(r.referral_id) for r in rows) == sorted(str(i) for i in known_people.zofia)
    assert all(ZOFIA not in row.model_dump_json(warnings=False) for row in rows)


def test_the_cli_writes_the_json_and_the_pdf(
    known_people: KnownPeople, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALRX_DATABASE_URL", database_url)
    from core.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["person", "export", "--nhs-number", ZOFIA, "--out", str(tmp_path / "out")]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    (json_file,) = (tmp_path / "out").glob("*.json")
    (pdf_file,) = (tmp_path / "out").glob("*.pdf")
    record = json.loads(json_file.read_text("utf-8"))
    assert [n["text"] for n in record["referrals"][0]["notes"]] == [NOTE_TEXT]
    assert pdf_file.read_bytes().startswith(b"%PDF")
    bad = CliRunner().invoke(app, ["person", "export", "--nhs-number", "123"])
    assert bad.exit_code == 2 and "NHS number" in bad.output


async def test_a_commissioner_scoped_to_an_area_is_not_an_admin(
    api: httpx.AsyncClient, known_people: KnownPeople, engine: Engine
) -> None:
    body = COMMISSIONER.partition(":")[2]
    assert (await export(api, COMMISSIONER, nhs_number=ZOFIA)).status_code == 200
    with Session(engine) as session:
        set_commissioner_practices(session, body, ["A81001"])
    # The same people, now an area's commissioners: a person's records are not theirs to see.
    assert (await export(api, COMMISSIONER, nhs_number=ZOFIA)).status_code == 404
    erased = await api.post(
        "/admin/people/erase",
        json={"nhs_number": ZOFIA},
        headers=await signed_in_as(api, COMMISSIONER),
    )
    assert erased.status_code == 404
