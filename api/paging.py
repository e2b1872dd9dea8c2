"""One page of a long list (an organisation's service referrals, a task list), for the JSON
routes and the web pages alike: ``limit`` and ``offset`` in, the page and the total out.

The JSON body stays a plain list; the total is ``X-Total-Count`` and the next page, if any,
a ``Link: <...>; rel="next"`` header, so a client that reads only the list still works.
"""

from typing import Annotated, Generic, NamedTuple, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, Response

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Far past any real list, and far inside the 64-bit integer the databases take.
MAX_OFFSET = 1_000_000_000

T = TypeVar("T")


class Window(NamedTuple):
    limit: int
    offset: int = 0


class Listed(NamedTuple, Generic[T]):
    items: list[T]
    total: int
    """How many there are in all, on every page."""


async def window(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"At most this many (up to {MAX_LIMIT}).")
    ] = DEFAULT_LIMIT,
    offset: Annotated[
        # Bounded: an offset past a 64-bit integer is a database error, not an empty page.
        int, Query(ge=0, le=MAX_OFFSET, description="Skip this many first.")
    ] = 0,
) -> Window:
    # async: it only reads the query (see api.deps on thread hand-overs).
    return Window(limit, offset)


WindowDep = Annotated[Window, Depends(window)]


def page_headers(request: Request, response: Response, shown: Window, total: int) -> None:
    """The total, and where the next page is while there is one."""
    response.headers["X-Total-Count"] = str(total)
    if shown.offset + shown.limit < total:
        query = dict(request.query_params) | {
            "limit": str(shown.limit),
            "offset": str(shown.offset + shown.limit),
        }
        response.headers["Link"] = f'<{request.url.path}?{urlencode(query)}>; rel="next"'
