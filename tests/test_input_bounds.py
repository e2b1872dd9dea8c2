"""Every text the API stores fits the column it lands in: the schema refuses a longer one
with 422 naming the field, rather than the database refusing it (a 503 that a retry repeats
on PostgreSQL, which checks VARCHAR lengths where SQLite does not)."""

from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from sqlmodel import SQLModel

from api.main import create_app
from api.schemas import (
    AssessmentIn,
    ConnectionIn,
    ContactAttemptIn,
    LinkWorkerClosureIn,
    Note,
    ReassignmentIn,
    ReferralSubmission,
)
from core.settings import Settings
from domain.tables import LinkWorker, Person, Practice, ReferralNote, ServiceReferral
from tests.support import fhir_resources
from tests.support.driver import person
from tests.support.web_people import PASSWORD, People


def column_length(table: type[SQLModel], column: str) -> int:
    length = getattr(table.__table__.columns[column].type, "length", None)  # type: ignore[attr-defined]
    assert isinstance(length, int), f"{table.__name__}.{column} has no length"
    return length


def schema_max_length(model: type[BaseModel], field: str) -> int | None:
    """The field's maxLength in the API's own JSON schema (an optional one's, a list's items')."""
    schema = model.model_json_schema()["properties"][field]
    for shape in [schema, *schema.get("anyOf", [])]:
        shape = shape.get("items", shape)
        if "maxLength" in shape:
            return int(shape["maxLength"])
    return None


# Where each stored text of a request goes: (model, field) -> (table, column).
STORED: dict[tuple[type[BaseModel], str], tuple[type[SQLModel], str]] = {
    (ReferralSubmission, "practice_ods"): (Practice, "ods_code"),
    (Note, "note"): (ReferralNote, "text"),
    (ContactAttemptIn, "note"): (ReferralNote, "text"),
    (LinkWorkerClosureIn, "note"): (ReferralNote, "text"),
    (AssessmentIn, "goals"): (ReferralNote, "text"),
    (ConnectionIn, "service_ids"): (ServiceReferral, "service_id"),
    (ReassignmentIn, "link_worker_id"): (LinkWorker, "id"),
}
# The person's details arrive by the name of their column.
STORED |= {
    (ReferralSubmission, column.name): (Person, column.name)
    for column in Person.__table__.columns  # type: ignore[attr-defined]
    if getattr(column.type, "length", None) and column.name in ReferralSubmission.model_fields
}
# Normalised before they are stored, to a shape shorter than the column: their validators
# refuse anything else, which test_a_value_one_longer_than_its_column_is_refused checks.
NORMALISED: set[tuple[type[BaseModel], str]] = {
    (ReferralSubmission, "nhs_number"),
    (ReferralSubmission, "postcode"),
}


def test_every_stored_text_is_person_details_included() -> None:
    person_fields = {field for model, field in STORED if model is ReferralSubmission}
    assert {"given_name", "family_name", "phone", "email", "address", "reason"} <= person_fields


@pytest.mark.parametrize(
    ("model", "field"), sorted((pair for pair in STORED if pair not in NORMALISED), key=str)
)
def test_each_schema_limit_fits_its_column(model: type[BaseModel], field: str) -> None:
    table, column = STORED[(model, field)]
    limit = schema_max_length(model, field)
    assert limit is not None, f"{model.__name__}.{field} has no maxLength"
    assert limit <= column_length(table, column), f"{model.__name__}.{field} > {table.__name__}"


def too_long_for(field: str, length: int) -> str:
    """A value of ``field``'s own shape, one character longer than ``length``."""
    if field == "email":
        local = "m" * 60
        return f"{local}@{'e' * (length - len(local) - 5)}.test"
    if field == "nhs_number":
        return "9" * (length + 1)
    if field == "postcode":
        return "MB" + "1" * (length - 4) + " 2AB"
    return "x" * (length + 1)


@pytest.mark.parametrize(
    "field", sorted(field for model, field in STORED if model is ReferralSubmission)
)
def test_a_value_one_longer_than_its_column_is_refused(field: str) -> None:
    table, column = STORED[(ReferralSubmission, field)]
    value = too_long_for(field, column_length(table, column))
    assert len(value) > column_length(table, column)
    with pytest.raises(ValidationError) as refused:
        ReferralSubmission.model_validate(person(**{field: value}))
    assert [problem["loc"] for problem in refused.value.errors()] == [(field,)]


# --- through the API: 422 naming the field, before anything is stored -------------------


class NoTemporal:
    """Stands in for the Temporal client: a request that reaches it is a test failure."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a refused request reached Temporal ({name})")


@pytest.fixture
def client(settings: Settings, engine: Engine) -> TestClient:
    app = create_app(settings, temporal=NoTemporal())  # type: ignore[arg-type]
    return TestClient(app, base_url="https://localhost")


def bearer(client: TestClient, engine: Engine, role: str) -> dict[str, str]:
    account = People(engine)[role]
    token = client.post("/auth/token", data={"username": account.username, "password": PASSWORD})
    client.cookies.clear()
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


TOO_LONG_EMAIL = too_long_for("email", 200)


@pytest.mark.parametrize(
    ("field", "value", "advice"),
    [
        ("email", TOO_LONG_EMAIL, "at most 200 characters"),
        ("birth_date", "1899-12-31", "on or after 1 January 1900"),
        ("need_codes", ["sp-social-groups"] * 21, "at most 20"),
        ("need_codes", ["sp-debt-and-vampires"], "unknown need codes sp-debt-and-vampires"),
        ("practice_ods", "A" * 17, "at most 16"),
    ],
)
def test_a_referral_out_of_bounds_is_refused_naming_the_field(
    client: TestClient, engine: Engine, field: str, value: object, advice: str
) -> None:
    headers = bearer(client, engine, "practice")
    response = client.post("/referrals", json=person(**{field: value}), headers=headers)
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["field"] == field
    assert advice in problem["msg"]


def test_a_fhir_referral_born_before_1900_is_refused(client: TestClient, engine: Engine) -> None:
    headers = bearer(client, engine, "practice") | {"Content-Type": "application/fhir+json"}
    body = fhir_resources.contained(person(birth_date="1899-06-01"))
    response = client.post("/fhir/ServiceRequest", json=body, headers=headers)
    assert response.status_code == 422, response.text
    (issue,) = response.json()["issue"]
    assert issue["expression"] == ["Patient.birthDate"]
    assert "1900" in issue["diagnostics"]


@pytest.mark.parametrize(
    ("body", "field", "advice"),
    [
        ({"need_codes": ["sp-arts"], "goals": ["g" * 4001]}, "goals.0", "at most 4000"),
        ({"need_codes": ["not-a-need"]}, "need_codes", "unknown need codes not-a-need"),
        ({"need_codes": ["sp-arts"] * 21}, "need_codes", "at most 20"),
    ],
)
def test_an_assessment_out_of_bounds_is_refused_naming_the_field(
    client: TestClient, engine: Engine, body: dict[str, Any], field: str, advice: str
) -> None:
    headers = bearer(client, engine, "link_worker")
    response = client.post(f"/referrals/{uuid4()}/assessment", json=body, headers=headers)
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["field"] == field
    assert advice in problem["msg"]
