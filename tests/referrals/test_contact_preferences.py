"""Intake records how the person wants to be contacted and whether they agreed to messages,
from the JSON API and from a FHIR Patient; a way of contact without its detail is refused."""

from typing import Any
from uuid import UUID

import pytest
from sqlmodel import Session

from api.fhir import systems
from domain.enums import PreferredContact
from domain.tables import Consent, Person
from tests.support.driver import PRACTICE, Driver, person
from tests.support.fhir_resources import FHIR_HEADERS, consent, contained
from tests.support.intake_helpers import counts


def stored_preference(driver: Driver, referral_id: UUID) -> tuple[str, bool]:
    with Session(driver.engine) as session:
        row = session.get(Consent, referral_id)
        assert row is not None
        return row.preferred_contact, row.contact_consent


@pytest.mark.parametrize(
    ("preferred", "missing", "advice"),
    [
        ("text", "phone", "text needs a mobile phone number"),
        ("email", "email", "email needs an email address"),
        ("letter", "address", "letter needs a postal address"),
    ],
)
async def test_a_way_of_contact_without_its_detail_is_refused_naming_the_field(
    driver: Driver, preferred: str, missing: str, advice: str
) -> None:
    body = person(preferred_contact=preferred, contact_consent=True) | {missing: None}
    response = await driver.http.post(
        "/referrals", json=body, headers=(await driver.headers_for(PRACTICE))
    )
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["field"] == "preferred_contact"
    assert advice in problem["msg"]
    assert counts(driver) == (0, 0, 0)


async def test_an_unknown_way_of_contact_is_refused(driver: Driver) -> None:
    response = await driver.http.post(
        "/referrals",
        json=person(preferred_contact="pigeon"),
        headers=(await driver.headers_for(PRACTICE)),
    )
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["detail"]] == ["preferred_contact"]
    assert counts(driver) == (0, 0, 0)


async def test_json_intake_stores_the_preference_and_defaults_to_phone_without_messages(
    driver: Driver,
) -> None:
    asked = await driver.submit(preferred_contact="text", contact_consent=True)
    not_asked = await driver.submit()
    assert stored_preference(driver, asked) == (PreferredContact.TEXT, True)
    assert stored_preference(driver, not_asked) == (PreferredContact.PHONE, False)


def with_messages_consent(body: dict[str, Any]) -> dict[str, Any]:
    resource = consent(body)
    resource["provision"]["provision"].append(
        {
            "type": "permit",
            "code": [{"coding": [{"system": systems.CONSENT_SCOPE, "code": "messages-to-person"}]}],
        }
    )
    return resource


async def create_fhir(driver: Driver, resource: dict[str, Any], body: dict[str, Any]) -> UUID:
    response = await driver.http.post(
        "/fhir/ServiceRequest",
        json=resource,
        headers=FHIR_HEADERS | (await driver.headers_for(PRACTICE)),
    )
    assert response.status_code == 201, response.text
    referral_id = UUID(response.json()["id"])
    driver.submitted[referral_id] = body
    await driver.wait_for_status(referral_id, "assigned")
    return referral_id


async def test_fhir_uk_core_contact_preference_and_consent_to_messages(driver: Driver) -> None:
    body = person()
    resource = contained(body)
    the_patient, _ = resource["contained"]
    the_patient["extension"] = [
        {
            "url": systems.UK_CORE_CONTACT_PREFERENCE,
            "extension": [
                {
                    "url": "PreferredContactMethod",
                    "valueCodeableConcept": {
                        "coding": [
                            {"system": systems.UK_CORE_PREFERRED_CONTACT_METHOD, "code": "4"}
                        ]
                    },
                }
            ],
        }
    ]
    resource["contained"][1] = with_messages_consent(body)
    referral_id = await create_fhir(driver, resource, body)
    assert stored_preference(driver, referral_id) == (PreferredContact.EMAIL, True)


async def test_fhir_best_ranked_telecom_says_how_and_where(driver: Driver) -> None:
    body = person()
    resource = contained(body)
    the_patient, _ = resource["contained"]
    the_patient["telecom"] = [
        {"system": "phone", "value": "01632 960000", "rank": 3},
        {"system": "email", "value": body["email"], "rank": 2},
        {"system": "sms", "value": body["phone"], "rank": 1},
    ]
    referral_id = await create_fhir(driver, resource, body)
    # Consent to messages not given: recorded as not agreed.
    assert stored_preference(driver, referral_id) == (PreferredContact.TEXT, False)
    with Session(driver.engine) as session:
        stored = session.get(Person, referral_id)
        assert stored is not None
        assert (stored.phone, stored.email) == (body["phone"], body["email"])


async def test_fhir_text_preference_without_a_number_names_the_element(driver: Driver) -> None:
    body = person()
    resource = contained(body)
    the_patient, _ = resource["contained"]
    the_patient["telecom"] = [{"system": "email", "value": body["email"]}]
    the_patient["extension"] = [
        {
            "url": systems.UK_CORE_CONTACT_PREFERENCE,
            "extension": [
                {
                    "url": "PreferredContactMethod",
                    "valueCodeableConcept": {
                        "coding": [
                            {"system": systems.UK_CORE_PREFERRED_CONTACT_METHOD, "code": "9"}
                        ]
                    },
                }
            ],
        }
    ]
    response = await driver.http.post(
        "/fhir/ServiceRequest",
        json=resource,
        headers=FHIR_HEADERS | (await driver.headers_for(PRACTICE)),
    )
    assert response.status_code == 422, response.text
    (issue,) = response.json()["issue"]
    assert issue["expression"] == ["Patient.extension"]
    assert "text needs a mobile phone number" in issue["diagnostics"]
    assert counts(driver) == (0, 0, 0)
