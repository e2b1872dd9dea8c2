"""FHIR R4: a GP system refers with a ServiceRequest or a transaction Bundle, reads it back,
and follows the referral through its Task; every error is an OperationOutcome."""

from typing import Any
from uuid import UUID, uuid4

import pytest

from api.fhir import systems
from api.main import create_app
from core.settings import Settings
from tests.support.driver import (
    LINK_WORKER,
    OTHER_PRACTICE,
    PRACTICE,
    Driver,
    person,
)
from tests.support.fhir_resources import FHIR_HEADERS, contained, patient, transaction
from tests.support.intake_helpers import counts

LEISURE = "org-millbrook-leisure-trust"


async def create(driver: Driver, resource: dict[str, Any], body: dict[str, Any]) -> Any:
    """The created ServiceRequest: the answer to a lone one, or the ServiceRequest entry of the
    transaction-response to a Bundle."""
    response = await driver.http.post(
        "/fhir/ServiceRequest",
        json=resource,
        headers=FHIR_HEADERS | (await driver.headers_for(PRACTICE)),
    )
    assert response.headers["content-type"].startswith("application/fhir+json")
    if resource["resourceType"] == "Bundle":
        assert response.status_code == 200, response.text
        assert response.json()["type"] == "transaction-response"
        (created,) = [e["resource"] for e in response.json()["entry"] if "resource" in e]
    else:
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["location"] == f"/fhir/ServiceRequest/{created['id']}"
    driver.submitted[UUID(created["id"])] = body
    # A test must not end while the new workflow's first step is still running.
    await driver.wait_for_status(UUID(created["id"]), "assigned")
    return created


async def read(driver: Driver, path: str, actor: str = PRACTICE) -> dict[str, Any]:
    response = await driver.http.get(path, headers=(await driver.headers_for(actor)))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    result: dict[str, Any] = response.json()
    return result


def outcome_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body: dict[str, Any] = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert all(issue["severity"] == "error" for issue in body["issue"])
    return body


@pytest.mark.parametrize("form", [contained, transaction], ids=["contained", "bundle"])
async def test_create_and_read_round_trip(driver: Driver, form: Any) -> None:
    body = person(share_with_organisations="contact_only", outcome_to_gp="details")
    created = await create(driver, form(body), body)

    read_back = await read(driver, f"/fhir/ServiceRequest/{created['id']}")
    assert read_back["resourceType"] == "ServiceRequest"
    assert read_back["requester"]["identifier"] == {
        "system": systems.ODS_ORGANISATION,
        "value": "A81001",
    }
    assert [c["coding"][0]["code"] for c in read_back["reasonCode"] if "coding" in c] == [
        "sp-social-groups"
    ]
    assert [c["text"] for c in read_back["reasonCode"] if "text" in c] == [body["reason"]]
    (the_patient,) = [r for r in read_back["contained"] if r["resourceType"] == "Patient"]
    expected = patient(body)
    for field in ("identifier", "name", "birthDate", "address", "telecom"):
        assert the_patient[field] == expected[field], field
    (the_consent,) = [r for r in read_back["contained"] if r["resourceType"] == "Consent"]
    provisions = {
        p["code"][0]["coding"][0]["code"]: p["type"] for p in the_consent["provision"]["provision"]
    }
    assert provisions == {systems.SHARE_REASON: "deny", systems.OUTCOME_DETAILS: "permit"}
    # The JSON API sees the same referral.
    detail = await driver.detail(UUID(created["id"]))
    assert detail["person"]["nhs_number"] == body["nhs_number"]
    assert counts(driver) == (1, 1, 1)


async def test_same_idempotency_key_returns_the_same_service_request(driver: Driver) -> None:
    body = person()
    headers = (
        FHIR_HEADERS | (await driver.headers_for(PRACTICE)) | {"Idempotency-Key": str(uuid4())}
    )
    first = await driver.http.post("/fhir/ServiceRequest", json=contained(body), headers=headers)
    again = await driver.http.post("/fhir/ServiceRequest", json=contained(body), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert counts(driver) == (1, 1, 1)
    driver.submitted[UUID(first.json()["id"])] = body
    await driver.wait_for_status(UUID(first.json()["id"]), "assigned")


async def test_invalid_fhir_gets_an_operation_outcome(driver: Driver) -> None:
    async def post(resource: object, actor: str = PRACTICE, **headers: str) -> Any:
        return await driver.http.post(
            "/fhir/ServiceRequest",
            content=resource if isinstance(resource, str) else None,
            json=None if isinstance(resource, str) else resource,
            headers=FHIR_HEADERS | (await driver.headers_for(actor)) | headers,
        )

    outcome = outcome_of(await post("{not json"), 400)
    assert "not valid JSON" in outcome["issue"][0]["diagnostics"]

    body = person()
    no_status = {k: v for k, v in contained(body).items() if k != "status"}
    outcome = outcome_of(await post(no_status), 400)
    assert any("status" in issue["diagnostics"] for issue in outcome["issue"])

    outcome = outcome_of(await post(patient(body)), 422)
    assert outcome["issue"][0]["expression"] == ["resourceType"]

    bad_number = contained(body)
    bad_number["contained"][0]["identifier"][0]["value"] = "9434765918"
    outcome = outcome_of(await post(bad_number), 422)
    assert outcome["issue"][0]["expression"] == ["Patient.identifier"]
    assert "NHS number" in outcome["issue"][0]["diagnostics"]

    future = contained(body)
    future["contained"][0]["birthDate"] = "2999-01-01"
    outcome = outcome_of(await post(future), 422)
    assert outcome["issue"][0]["expression"] == ["Patient.birthDate"]

    no_consent = contained(body)
    no_consent["contained"] = no_consent["contained"][:1]
    outcome = outcome_of(await post(no_consent), 422)
    assert outcome["issue"][0]["expression"] == ["Consent"]

    unknown_need = contained(body)
    unknown_need["reasonCode"][0]["coding"][0]["code"] = "sp-no-such-need"
    outcome = outcome_of(await post(unknown_need), 422)
    assert outcome["issue"][0]["expression"] == ["ServiceRequest.reasonCode.coding"]

    dangling = contained(body) | {"subject": {"reference": "Patient/elsewhere"}}
    outcome = outcome_of(await post(dangling), 422)
    assert outcome["issue"][0]["expression"] == ["ServiceRequest.subject"]

    outcome = outcome_of(await post(contained(body), actor=OTHER_PRACTICE), 403)
    assert outcome["issue"][0]["code"] == "forbidden"

    outcome = outcome_of(await post(contained(body), **{"Content-Type": "text/plain"}), 415)
    assert counts(driver) == (0, 0, 0)


async def test_duplicate_and_unknown_answer_operation_outcomes(driver: Driver) -> None:
    body = person()
    created = await create(driver, contained(body), body)
    again = await driver.http.post(
        "/fhir/ServiceRequest",
        json=contained(body),
        headers=FHIR_HEADERS | (await driver.headers_for(PRACTICE)),
    )
    outcome = outcome_of(again, 409)
    assert outcome["issue"][0]["code"] == "duplicate"
    assert f"ServiceRequest/{created['id']}" in outcome["issue"][0]["diagnostics"]

    for path in (f"/fhir/ServiceRequest/{uuid4()}", "/fhir/Task/not-a-uuid"):
        outcome_of(await driver.http.get(path, headers=(await driver.headers_for(PRACTICE))), 404)
    # Another practice's referral does not exist for them.
    for path in (f"/fhir/ServiceRequest/{created['id']}", f"/fhir/Task/{created['id']}"):
        outcome_of(
            await driver.http.get(path, headers=(await driver.headers_for(OTHER_PRACTICE))), 404
        )
    search = await read(
        driver, f"/fhir/Task?based-on=ServiceRequest/{created['id']}", actor=OTHER_PRACTICE
    )
    assert search["total"] == 0
    # A request FastAPI itself refuses still answers as FHIR, naming the parameter.
    practice = await driver.headers_for(PRACTICE)
    outcome = outcome_of(await driver.http.get("/fhir/Task", headers=practice), 422)
    assert outcome["issue"][0]["expression"] == ["based-on"]


async def test_refusals_from_sign_in_and_routing_are_operation_outcomes_too(
    driver: Driver, settings: Settings
) -> None:
    referral_id = await driver.submit()
    task = f"/fhir/Task/{referral_id}"
    # No sign-in, an unknown token, an unknown key: 401, saying how to sign in.
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"X-API-Key": "srx_unknown"}):
        for response in (
            await driver.http.get(task, headers=headers),
            await driver.http.get(
                f"/fhir/Task?based-on=ServiceRequest/{referral_id}", headers=headers
            ),
            await driver.http.post(
                "/fhir/ServiceRequest", json=contained(person()), headers=FHIR_HEADERS | headers
            ),
        ):
            outcome = outcome_of(response, 401)
            assert response.headers["www-authenticate"] == "Bearer"
            (issue,) = outcome["issue"]
            assert issue["code"] == "login"
            assert "/auth/token" in issue["diagnostics"]
            assert "detail" not in outcome
    practice = await driver.headers_for(PRACTICE)
    # A resource type or an interaction the server does not have.
    outcome = outcome_of(await driver.http.get("/fhir/Patient/1", headers=practice), 404)
    assert outcome["issue"][0]["code"] == "not-found"
    not_allowed = await driver.http.delete(task, headers=practice)
    outcome = outcome_of(not_allowed, 405)
    assert outcome["issue"][0]["code"] == "not-supported"
    assert not_allowed.headers["allow"] == "GET"
    # The JSON API keeps its own shape.
    plain = await driver.http.get(f"/referrals/{referral_id}")
    assert plain.status_code == 401 and "/auth/token" in plain.json()["detail"]
    assert plain.headers["www-authenticate"] == "Bearer"
    # And the OpenAPI document says so.
    paths = create_app(settings).openapi()["paths"]
    fhir = [op for path, ops in paths.items() if path.startswith("/fhir/") for op in ops.values()]
    assert len(fhir) == 4
    assert all(op["responses"]["401"]["description"] == "OperationOutcome" for op in fhir)


async def test_task_follows_the_referral_to_completion(driver: Driver) -> None:
    body = person()
    referral_id = UUID((await create(driver, contained(body), body))["id"])

    async def task() -> dict[str, Any]:
        search = await read(driver, f"/fhir/Task?based-on=ServiceRequest/{referral_id}")
        assert search["type"] == "searchset" and search["total"] == 1
        found: dict[str, Any] = search["entry"][0]["resource"]
        assert found == await read(driver, f"/fhir/Task/{referral_id}")
        assert found["basedOn"] == [{"reference": f"ServiceRequest/{referral_id}"}]
        return found

    def business(found: dict[str, Any]) -> str:
        code: str = found["businessStatus"]["coding"][0]["code"]
        return code

    first = await task()
    assert (first["status"], business(first)) == ("accepted", "assigned")
    assert "output" not in first
    await driver.contact(referral_id, reached=True)
    assert business(await task()) == "contacting"
    await driver.assess(referral_id)
    (walks,) = await driver.connect(referral_id, "svc-health-walks")
    await driver.respond(walks, LEISURE, accepted=True)
    await driver.uptake(walks, LEISURE, started=True)
    engaged = await task()
    assert (engaged["status"], business(engaged)) == ("in-progress", "engaged")
    # The link worker's team sees the Task as well.
    assert (await read(driver, f"/fhir/Task/{referral_id}", actor=LINK_WORKER))["id"] == str(
        referral_id
    )

    await driver.record_both_follow_ups(referral_id)

    done = await task()
    assert (done["status"], business(done)) == ("completed", "completed")
    outcome, service, measure = done["output"]
    assert outcome["valueCodeableConcept"]["coding"][0]["code"] == "871731000000106"
    assert service["valueReference"]["identifier"]["value"] == "svc-health-walks"
    # How the measure taken at baseline moved, in a contained Observation.
    assert measure["valueReference"]["reference"] == "#measure-swemwbs"
    assert [c["id"] for c in done["contained"]] == ["measure-swemwbs"]
    request = await read(driver, f"/fhir/ServiceRequest/{referral_id}")
    assert request["status"] == "completed"


@pytest.mark.parametrize(
    ("ending", "status", "code"),
    [
        ("cancel", "cancelled", "cancelled_by_referrer"),
        ("ineligible", "rejected", "ineligible"),
        ("declined", "cancelled", "declined"),
    ],
)
async def test_task_status_when_the_referral_ends_early(
    driver: Driver, ending: str, status: str, code: str
) -> None:
    referral_id = await driver.submit()
    if ending == "cancel":
        await driver.post(f"/referrals/{referral_id}/cancel", {}, actor=PRACTICE)
    else:
        await driver.contact(referral_id, reached=True)
        await driver.post(f"/referrals/{referral_id}/close", {"reason": ending})
    await driver.wait_closed(referral_id)
    found = await read(driver, f"/fhir/Task/{referral_id}")
    assert found["status"] == status
    assert found["businessStatus"]["coding"][0]["code"] == code
    assert "output" not in found
    assert (await read(driver, f"/fhir/ServiceRequest/{referral_id}"))["status"] == "revoked"


# --- saying no instead of guessing ----------------------------------------------------------


async def post_resource(driver: Driver, resource: dict[str, Any]) -> Any:
    return await driver.http.post(
        "/fhir/ServiceRequest",
        json=resource,
        headers=FHIR_HEADERS | (await driver.headers_for(PRACTICE)),
    )


@pytest.mark.parametrize(
    ("changes", "element", "advice"),
    [
        ({"status": "draft"}, "ServiceRequest.status", "status must be active"),
        ({"status": "on-hold"}, "ServiceRequest.status", "status must be active"),
        ({"intent": "plan"}, "ServiceRequest.intent", "order, original-order"),
        ({"intent": "proposal"}, "ServiceRequest.intent", "order, original-order"),
        ({"priority": "whenever"}, "ServiceRequest.priority", "routine, urgent, asap, stat"),
        (
            {"code": {"coding": [{"system": systems.SNOMED, "code": "871711000000103"}]}},
            "ServiceRequest.code",
            "871731000000106",
        ),
        (
            {
                "code": {
                    "coding": [{"system": "http://example.org/local", "code": "871731000000106"}]
                }
            },
            "ServiceRequest.code",
            "social prescribing referral",
        ),
        ({"code": None}, "ServiceRequest.code", "social prescribing referral"),
    ],
    ids=[
        "draft",
        "on-hold",
        "plan",
        "proposal",
        "priority",
        "declined-code",
        "other-system",
        "no-code",
    ],
)
@pytest.mark.parametrize("form", [contained, transaction], ids=["contained", "bundle"])
async def test_what_is_not_a_live_social_prescribing_order_is_refused(
    driver: Driver, form: Any, changes: dict[str, Any], element: str, advice: str
) -> None:
    resource = form(person())
    request = resource["entry"][0]["resource"] if resource["resourceType"] == "Bundle" else resource
    for key, value in changes.items():
        if value is None:
            del request[key]
        else:
            request[key] = value
    outcome = outcome_of(await post_resource(driver, resource), 422)
    (issue,) = outcome["issue"]
    assert issue["expression"] == [element]
    assert advice in issue["diagnostics"]
    assert counts(driver) == (0, 0, 0)


async def test_a_transaction_is_answered_with_a_transaction_response(driver: Driver) -> None:
    body = person()
    bundle = transaction(body)
    response = await post_resource(driver, bundle)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["resourceType"], answer["type"]) == ("Bundle", "transaction-response")
    # One entry per request entry, in the same order.
    assert len(answer["entry"]) == len(bundle["entry"])
    created, for_patient, for_practice, for_consent = answer["entry"]
    referral_id = created["resource"]["id"]
    driver.submitted[UUID(referral_id)] = body
    assert created["response"]["status"] == "201 Created"
    assert created["response"]["location"] == f"ServiceRequest/{referral_id}/_history/1"
    assert created["response"]["etag"] == 'W/"1"'
    assert created["response"]["lastModified"] == created["resource"]["meta"]["lastUpdated"]
    for entry in (for_patient, for_practice, for_consent):
        assert entry["response"]["status"] == "200 OK"
        assert "location" not in entry["response"]
        (note,) = entry["response"]["outcome"]["issue"]
        assert note["severity"] == "information"
    assert (
        f"ServiceRequest/{referral_id}"
        in for_patient["response"]["outcome"]["issue"][0]["diagnostics"]
    )
    await driver.wait_for_status(UUID(referral_id), "assigned")
    read_back = await read(driver, f"/fhir/ServiceRequest/{referral_id}")
    assert read_back["id"] == referral_id


async def test_a_read_back_keeps_what_was_sent_and_says_when_it_arrived(driver: Driver) -> None:
    body = person()
    resource = contained(body) | {
        "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest"]},
        "category": [
            {
                "coding": [
                    {
                        "system": systems.SNOMED,
                        "code": "306206005",
                        "display": "Referral to service",
                    }
                ]
            }
        ],
        "priority": "urgent",
        "authoredOn": "2026-11-30T09:15:00+00:00",
    }
    created = await create(driver, resource, body)
    read_back = await read(driver, f"/fhir/ServiceRequest/{created['id']}")
    for key in ("category", "priority", "authoredOn"):
        assert read_back[key] == resource[key], key
    assert read_back["meta"]["profile"] == resource["meta"]["profile"]
    (received,) = [e for e in read_back["extension"] if e["url"] == systems.RECEIVED_AT]
    assert received["valueDateTime"] > resource["authoredOn"]
    assert created["authoredOn"] == resource["authoredOn"]


@pytest.mark.parametrize(
    ("where", "wrong", "element"),
    [
        ("request.authoredOn", 12, "ServiceRequest.authoredOn"),
        ("request.authoredOn", "yesterday", "ServiceRequest.authoredOn"),
        ("request.priority", 12, "ServiceRequest.priority"),
        ("patient.birthDate", 12, "Patient.birthDate"),
        ("patient.birthDate", "yesterday", "Patient.birthDate"),
    ],
)
@pytest.mark.parametrize("form", [contained, transaction], ids=["contained", "bundle"])
async def test_a_wrongly_typed_element_is_named(
    driver: Driver, form: Any, where: str, element: str, wrong: object
) -> None:
    resource = form(person())
    if resource["resourceType"] == "Bundle":
        request, the_patient = (e["resource"] for e in resource["entry"][:2])
    else:
        request, the_patient = resource, resource["contained"][0]
    target, key = where.split(".")
    (request if target == "request" else the_patient)[key] = wrong
    outcome = outcome_of(await post_resource(driver, resource), 400)
    assert [issue["expression"] for issue in outcome["issue"]] == [[element]]
    assert "Invalid JSON" not in str(outcome)
    assert counts(driver) == (0, 0, 0)
