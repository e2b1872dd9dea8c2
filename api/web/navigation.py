"""Each role's pages in the header, first page first: the home page sends each role there.

A new page that a role reaches from the header is added to its list here.
"""

from typing import NamedTuple

from api.principal import Principal
from domain.enums import OrganisationKind


class NavItem(NamedTuple):
    text: str
    href: str


NAVIGATION: dict[OrganisationKind, list[NavItem]] = {
    OrganisationKind.PRACTICE: [
        NavItem("Your referrals", "/practice/referrals"),
        NavItem("Refer someone", "/practice/refer"),
    ],
    OrganisationKind.LINK_WORKER_TEAM: [
        NavItem("Your tasks", "/tasks"),
        NavItem("Team caseload", "/caseload"),
    ],
    OrganisationKind.ORGANISATION: [
        NavItem("Referrals to you", "/organisation/referrals"),
        NavItem("Your services", "/organisation/services"),
    ],
    OrganisationKind.COMMISSIONER: [
        NavItem("Reports", "/reports"),
        NavItem("Access log", "/reports/access-log"),
    ],
}


def first_page(principal: Principal) -> str:
    return NAVIGATION[principal.organisation_kind][0].href


def header_items(principal: Principal | None, path: str) -> list[dict[str, object]]:
    """The header's navigation items for this role, the one ``path`` is under marked."""
    if principal is None:
        return []
    return [
        {"text": item.text, "href": item.href, "current": path == item.href}
        | ({"active": True} if path.startswith(item.href + "/") else {})
        for item in NAVIGATION[principal.organisation_kind]
    ]
