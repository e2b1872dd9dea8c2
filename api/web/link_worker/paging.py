"""Previous and next links of a long list, keeping the list's filters."""

from urllib.parse import urlencode

from fastapi import Request


def page_links(request: Request, page: int, pages: int) -> dict[str, dict[str, str]]:
    """The ``nhsuk`` pagination component's ``previous`` and ``next``, where there is one."""

    def link(number: int, text: str) -> dict[str, str]:
        query = dict(request.query_params) | {"page": str(number)}
        return {
            "href": f"{request.url.path}?{urlencode(query)}",
            "labelText": f"Page {number} of {pages}",
            "text": text,
        }

    links: dict[str, dict[str, str]] = {}
    if page > 1:
        links["previous"] = link(page - 1, "Previous")
    if page < pages:
        links["next"] = link(page + 1, "Next")
    return links
