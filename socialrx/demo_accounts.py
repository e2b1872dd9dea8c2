"""Demo accounts for ``socialrx dev``: one sign-in for each role, and one API key.

Every demo password is ``millbrook-demo``; docs/access.md lists the accounts. Loading creates
what is missing and leaves existing accounts (and changed passwords) alone.
"""

from sqlmodel import Session

from accounts.credentials import Role, add_user, create_api_key
from domain.accounts import ApiKey, UserAccount

DEMO_PASSWORD = "millbrook-demo"
DEMO_USERS: list[tuple[str, Role, str]] = [
    ("gp-a81001", Role.PRACTICE, "A81001"),
    ("gp-a81002", Role.PRACTICE, "A81002"),
    ("lw-amira", Role.LINK_WORKER, "lw-amira"),
    ("lw-ben", Role.LINK_WORKER, "lw-ben"),
    ("lw-carys", Role.LINK_WORKER, "lw-carys"),
    ("org-millbrook-leisure-trust", Role.ORGANISATION, "org-millbrook-leisure-trust"),
    ("commissioner", Role.COMMISSIONER, "millbrook-icb"),
]
# Practice A81001's clinical system. Well known, so only ever for the demo.
DEMO_KEY_ID = "demo-a81001"
DEMO_KEY_SECRET = "millbrook-demo-clinical-system"
DEMO_API_KEY = f"srx_{DEMO_KEY_ID}_{DEMO_KEY_SECRET}"


def load_demo_accounts(session: Session) -> None:
    """Needs the demo practices, link workers and directory to be loaded first."""
    for username, role, identifier in DEMO_USERS:
        if session.get(UserAccount, username) is None:
            add_user(session, username, DEMO_PASSWORD, role, identifier)
    if session.get(ApiKey, DEMO_KEY_ID) is None:
        create_api_key(
            session,
            Role.PRACTICE,
            "A81001",
            "A81001 clinical system (demo)",
            key_id=DEMO_KEY_ID,
            secret=DEMO_KEY_SECRET,
        )
