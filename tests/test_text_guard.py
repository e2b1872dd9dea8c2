"""A NUL character anywhere in the input is a 422 naming where, on every database: PostgreSQL
cannot store one, so without the guard it was a server error deep inside a query."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from api.main import create_app
from core.settings import Settings


@pytest.fixture
async def client(engine: Engine, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings, temporal=None))
    async with httpx.AsyncClient(transport=transport, base_url="http://socialrx.test") as http:
        yield http


@pytest.mark.parametrize(
    ("method", "path", "request_args", "location"),
    [
        ("GET", "/services/svc%00x", {}, ["path", "service_id"]),
        ("GET", "/link-workers/lw%00/tasks", {}, ["path", "link_worker_id"]),
        ("GET", "/services", {"params": {"search": "walk\x00"}}, ["query", "search"]),
        (
            "POST",
            "/auth/token",
            {"data": {"username": "gp\x00", "password": "whatever"}},
            ["body", "username"],
        ),
        (
            "PATCH",
            "/services/svc-x/capacity-status",
            {"json": {"status": "active", "notes": ["fine", "bad\x00"]}},
            ["body", "notes", 1],
        ),
    ],
)
async def test_nul_characters_are_refused_with_where(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    request_args: dict[str, Any],
    location: list[Any],
) -> None:
    response = await client.request(method, path, **request_args)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [
        {
            "loc": location,
            "msg": "must not contain NUL characters",
            "type": "value_error",
            "field": ".".join(str(part) for part in location[1:]),
        }
    ]


async def test_ordinary_text_passes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/services", params={"search": "100%00 walk"})).status_code == 200
    response = await client.post(
        "/auth/token", data={"username": "nobody", "password": "literally \\u0000"}
    )
    assert response.status_code == 401
    # A body in a shape the route does not take still gets the route's own 422.
    wrong_shape = await client.post("/auth/token", json={"username": "gp\u0000"})
    assert wrong_shape.status_code == 422
    assert wrong_shape.json()["detail"][0]["loc"] == ["body", "username"]
