"""The HSDS API: every response validates against the shipped schemas, lists come in the
standard paging envelope, the standard parameters filter, and bad parameters are named."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from accounts.credentials import Role, create_api_key
from catalogue.demo import load_demo_directory
from catalogue.importer import import_file
from tests.support.hsds import HSDS, assert_valid, town_service


@pytest.fixture
def demo(engine: Engine) -> None:
    with Session(engine) as session:
        load_demo_directory(session)


def assert_page(page: dict[str, Any], page_schema: dict[str, Any]) -> list[dict[str, Any]]:
    assert_valid(page_schema, page)
    assert page["size"] == len(page["contents"])
    assert page["empty"] == (not page["contents"])
    contents: list[dict[str, Any]] = page["contents"]
    return contents


async def test_services_list_validates_and_pages(
    client: httpx.AsyncClient, demo: None, service_schema: Any, page_schema: Any
) -> None:
    first = (await client.get("/services", params={"per_page": 10})).json()
    services = assert_page(first, page_schema)
    for service in services:
        assert_valid(service_schema, service)
        assert not any(isinstance(value, list) for value in service.values())
    assert first["total_items"] == 45
    assert first["total_pages"] == 5
    assert (first["page_number"], first["first_page"], first["last_page"]) == (1, True, False)

    last = (await client.get("/services", params={"per_page": 10, "page": 5})).json()
    assert (last["size"], last["last_page"]) == (5, True)
    beyond = (await client.get("/services", params={"per_page": 10, "page": 6})).json()
    assert beyond["empty"] and beyond["total_items"] == 45


async def test_full_services_validate(
    client: httpx.AsyncClient, demo: None, service_schema: Any, page_schema: Any
) -> None:
    page = (await client.get("/services", params={"per_page": 100, "full": True})).json()
    for service in assert_page(page, page_schema):
        assert_valid(service_schema, service)
    one = await client.get("/services/svc-health-walks")
    assert one.status_code == 200
    assert_valid(service_schema, one.json())
    assert one.json()["service_at_locations"][0]["location"]["id"] == "loc-millbrook-park-gates"


async def test_official_example_is_served_as_published(
    client: httpx.AsyncClient, engine: Engine, service_schema: Any
) -> None:
    assert not import_file(engine, HSDS / "examples_service_full.json").rejected
    response = await client.get("/services/ac148810-d857-441c-9679-408f346de14b")
    assert_valid(service_schema, response.json())
    assert response.json()["organization"]["name"] == "Example Organization Inc."


async def test_search_finds_words_and_prefixes(client: httpx.AsyncClient, demo: None) -> None:
    async def ids(search: str) -> set[str]:
        page = (await client.get("/services", params={"search": search, "per_page": 100})).json()
        return {service["id"] for service in page["contents"]}

    assert await ids("pottery") == {"svc-pottery-for-beginners"}
    assert await ids("POTT") == {"svc-pottery-for-beginners"}
    assert "svc-community-growing-days" in await ids("garden")  # organisation name
    assert await ids("yoga chair") == {"svc-chair-yoga"}
    assert await ids("yoga swimming") == set()


async def test_filters_by_term_organization_and_modification(
    client: httpx.AsyncClient, demo: None
) -> None:
    async def ids(**params: Any) -> set[str]:
        page = (await client.get("/services", params={"per_page": 100, **params})).json()
        return {service["id"] for service in page["contents"]}

    assert await ids(taxonomy_term_id="sp-carers") == {
        "svc-carers-cafe",
        "svc-carers-breaks",
        "svc-young-carers-club",
    }
    assert await ids(organization_id="org-eastgate-homes") == {
        "svc-tenancy-support",
        "svc-home-adaptations-advice",
    }
    recent = await ids(modified_after="2025-11-05T00:00:00Z")
    assert recent == {"svc-swim-for-health", "svc-debt-advice", "svc-food-bank"}


async def test_taxonomy_terms_and_organizations_validate(
    client: httpx.AsyncClient, demo: None, service_schema: Any, page_schema: Any
) -> None:
    term_schema = service_schema["properties"]["attributes"]["items"]["properties"]["taxonomy_term"]
    terms = (
        await client.get(
            "/taxonomy_terms",
            params={"taxonomy_id": "socialrx-social-prescribing", "per_page": 50},
        )
    ).json()
    contents = assert_page(terms, page_schema)
    assert terms["total_items"] == 14
    for term in contents:
        assert_valid(term_schema, term)
    assert (await client.get("/taxonomy_terms/sp-food")).json()["name"] == "Food"

    organization_schema = service_schema["properties"]["organization"]
    organizations = (await client.get("/organizations", params={"per_page": 50})).json()
    assert organizations["total_items"] == 25
    for organization in assert_page(organizations, page_schema):
        assert_valid(organization_schema, organization)
    full = (await client.get("/organizations/org-millbrook-libraries")).json()
    assert_valid(organization_schema, full)
    assert {service["id"] for service in full["services"]} == {
        "svc-get-online-sessions",
        "svc-library-reading-group",
    }
    for service in full["services"]:
        assert_valid(service_schema, service)


async def test_service_at_locations_by_postcode_and_proximity(
    client: httpx.AsyncClient, demo: None, service_schema: Any, page_schema: Any
) -> None:
    link_schema = service_schema["properties"]["service_at_locations"]["items"]
    near = (
        await client.get(
            "/service_at_locations",
            params={"postcode": "MB6 2XW", "proximity": 1500, "per_page": 100},
        )
    ).json()
    links = assert_page(near, page_schema)
    for link in links:
        assert_valid(link_schema, link)
        assert_valid(service_schema, link["service"])
    assert {link["service"]["id"] for link in links} == {
        "svc-green-gym",
        "svc-woodland-wellbeing-walks",
        "svc-tea-dance",
    }

    # Without proximity, postcode keeps the services whose areas cover the district.
    everywhere = (
        await client.get("/service_at_locations", params={"postcode": "MB6", "per_page": 100})
    ).json()
    served = {link["service"]["id"] for link in everywhere["contents"]}
    assert "svc-tea-dance" in served and "svc-lunch-club" not in served

    one = (await client.get(f"/service_at_locations/{links[0]['id']}")).json()
    assert_valid(link_schema, one)
    assert_valid(service_schema, one["service"])


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/services", {"per_page": 0}, "per_page"),
        ("/services", {"per_page": 101}, "per_page"),
        ("/services", {"page": 0}, "page"),
        ("/services", {"page": "first"}, "page"),
        ("/services", {"modified_after": "last tuesday"}, "modified_after"),
        ("/organizations", {"per_page": 1000}, "per_page"),
        ("/taxonomy_terms", {"page": -1}, "page"),
        ("/service_at_locations", {"postcode": "MB1", "proximity": -5}, "proximity"),
        ("/service_at_locations", {"postcode": "MB1", "proximity": 10_000_000}, "proximity"),
        ("/service_at_locations", {"proximity": 500}, "proximity"),
        ("/service_at_locations", {"postcode": "ZZ9 9ZZ", "proximity": 500}, "postcode"),
    ],
)
async def test_out_of_range_parameters_are_named(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], parameter: str
) -> None:
    response = await client.get(path, params=params)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", parameter]]


async def test_unknown_ids_are_404(client: httpx.AsyncClient) -> None:
    for path in (
        "/services/nope",
        "/organizations/nope",
        "/taxonomy_terms/nope",
        "/service_at_locations/nope",
    ):
        response = await client.get(path)
        assert response.status_code == 404
        assert "nope" in response.json()["detail"]


def key_headers(engine: Engine, organisation_id: str) -> dict[str, str]:
    """An API key of the organisation's own tool, as it would send it."""
    with Session(engine) as session:
        _, key = create_api_key(session, Role.ORGANISATION, organisation_id, "capacity tool")
    return {"X-API-Key": key}


async def test_organisation_updates_its_capacity_and_status(
    client: httpx.AsyncClient,
    add_services: Callable[..., Any],
    service_schema: Any,
    engine: Engine,
) -> None:
    add_services(town_service("svc-choir", capacity={"available": 3, "maximum": 10}))
    headers = key_headers(engine, "org-a")
    response = await client.patch(
        "/services/svc-choir/capacity-status",
        json={"available": 0, "waiting_list": True, "status": "temporarily closed"},
        headers=headers,
    )
    assert response.status_code == 200
    document = response.json()
    assert_valid(service_schema, document)
    assert document["status"] == "temporarily closed"
    assert document["capacities"][0] | {"updated": None} == {
        "id": "capacity-svc-choir",
        "available": 0,
        "maximum": 10,
        "waiting_list": True,
        "description": "places",
        "updated": None,
    }
    assert document["last_modified"] > "2025-01-01T00:00:00Z"


async def test_capacity_update_checks_owner_and_body(
    client: httpx.AsyncClient, add_services: Callable[..., Any], engine: Engine
) -> None:
    add_services(town_service("svc-choir"), town_service("svc-b", organization="org-b"))
    path = "/services/svc-choir/capacity-status"
    anonymous = await client.patch(path, json={"available": 1})
    assert anonymous.status_code == 401
    other = await client.patch(path, json={"available": 1}, headers=key_headers(engine, "org-b"))
    assert other.status_code == 403
    headers = key_headers(engine, "org-a")
    empty = await client.patch(path, json={}, headers=headers)
    assert empty.status_code == 422
    negative = await client.patch(path, json={"available": -1}, headers=headers)
    assert negative.status_code == 422
    assert negative.json()["detail"][0]["loc"] == ["body", "available"]
    unknown = await client.patch(path, json={"status": "open"}, headers=headers)
    assert unknown.status_code == 422
    # A null would erase what is known: leave the field out instead.
    null = await client.patch(path, json={"maximum": 4, "available": None}, headers=headers)
    assert null.status_code == 422
    assert [error["loc"] for error in null.json()["detail"]] == [["body", "available"]]
    assert unknown.status_code == 422
    missing = await client.patch(
        "/services/nope/capacity-status", json={"available": 1}, headers=headers
    )
    assert missing.status_code == 404
