"""A 422 for input that parses but cannot be used, in the shape every other 422 has."""

from typing import NoReturn

from fastapi.exceptions import RequestValidationError


def invalid(location: tuple[str | int, ...], message: str) -> NoReturn:
    """Answer 422 naming the field, e.g. ``invalid(("body", "service_ids", 0), "...")``: the
    same ``detail`` list FastAPI gives for a malformed field, as the OpenAPI document says."""
    raise RequestValidationError([{"loc": location, "msg": message, "type": "value_error"}])
