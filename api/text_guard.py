"""No input may carry a NUL character: PostgreSQL text cannot hold one, so it would fail deep
inside a query as a server error. Refused up front with a 422 that says where it was."""

import json
from collections.abc import Iterator
from typing import Any

from fastapi import Request

from api.errors import invalid

NUL = "\x00"
MESSAGE = "must not contain NUL characters"


async def reject_nul_characters(request: Request) -> None:
    for name, value in request.path_params.items():
        if NUL in str(value):
            invalid(("path", name), MESSAGE)
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            invalid(("query", name), MESSAGE)
    # FastAPI has read the body before any dependency runs; these return what it kept.
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        for name, value in (await request.form()).multi_items():
            if NUL in name or (isinstance(value, str) and NUL in value):
                invalid(("body", name), MESSAGE)
        return
    body = await request.body()
    if b"\\u0000" in body or b"\x00" in body:
        try:
            document = json.loads(body)
        except ValueError:
            return  # not JSON: the route's own validation answers
        for location in _nul_strings(document, ("body",)):
            invalid(location, MESSAGE)


def _nul_strings(value: Any, location: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str) and NUL in value:
        yield location
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                yield location
            yield from _nul_strings(item, (*location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_strings(item, (*location, index))
