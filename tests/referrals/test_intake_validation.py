"""Every problem with a submission answers 422 naming the field and what to fix, and saves
nothing."""

from typing import Any

import pytest

from tests.support.driver import PRACTICE, Driver, person
from tests.support.intake_helpers import counts

BAD_FIELDS: list[tuple[str, Any, str]] = [
    ("nhs_number", "9434765918", "valid 10-digit NHS number"),
    ("nhs_number", "94347659", "valid 10-digit NHS number"),
    ("birth_date", "2999-01-01", "in the past"),
    ("birth_date", "1950-02-30", "valid date"),
    ("postcode", "NOT A POSTCODE", "UK postcode"),
    ("reason", "", "at least 1 character"),
    ("need_codes", [], "at least 1 item"),
    ("need_codes", ["sp-no-such-need"], "unknown need codes sp-no-such-need"),
    ("consent_given", False, "must agree"),
    ("share_with_organisations", "everything", "contact_only"),
    ("outcome_to_gp", "all", "codes_only"),
]


@pytest.mark.parametrize(("field", "value", "advice"), BAD_FIELDS)
async def test_bad_field_is_named_with_what_to_fix(
    driver: Driver, field: str, value: Any, advice: str
) -> None:
    response = await driver.http.post(
        "/referrals", json=person(**{field: value}), headers=(await driver.headers_for(PRACTICE))
    )
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", field]
    assert problem["field"] == field
    assert advice in problem["msg"]
    # What was sent is not echoed back: it is personal data.
    assert "input" not in problem and "Featherstonehaugh" not in response.text
    assert counts(driver) == (0, 0, 0)


@pytest.mark.parametrize("field", ["reason", "need_codes", "outcome_to_gp", "postcode"])
async def test_missing_required_field_is_named(driver: Driver, field: str) -> None:
    body = person()
    del body[field]
    response = await driver.http.post(
        "/referrals", json=body, headers=(await driver.headers_for(PRACTICE))
    )
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["detail"]] == [field]
    assert "Featherstonehaugh" not in response.text
    assert counts(driver) == (0, 0, 0)


async def test_unknown_practice_is_refused_and_naming_another_practice_is_forbidden(
    driver: Driver,
) -> None:
    response = await driver.http.post(
        "/referrals",
        json=person(practice_ods="Z99999"),
        headers=(await driver.headers_for(PRACTICE)),
    )
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "practice_ods"]
    assert problem["msg"].startswith("Z99999 is not a practice")
    response = await driver.http.post(
        "/referrals",
        json=person(practice_ods="A81002"),
        headers=(await driver.headers_for(PRACTICE)),
    )
    assert response.status_code == 403
    assert "practice_ods" in response.json()["detail"]
    assert counts(driver) == (0, 0, 0)
