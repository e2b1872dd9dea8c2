"""Who is calling: one user or API key, and the one organisation it belongs to.

Every route takes ``CurrentPrincipal`` (or ``api.access.AccessDep``, which holds it) and
decides from it what this caller may see or change. How the caller proved who they are is
the concern of ``get_current_principal`` alone:

- a person signs in at ``POST /auth/token`` with their user name and password and sends the
  token as ``Authorization: Bearer <token>``; the same token comes back as an HttpOnly
  cookie for web pages (and the downloads they link to, ``BrowserPrincipal``), which the
  JSON API never accepts. It lasts ``SOCIALRX_SESSION_LIFETIME`` (one hour by default).
- a system sends its API key as ``X-API-Key: srx_...`` or ``Authorization: Bearer srx_...``.
"""

from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import APIKeyCookie, APIKeyHeader, OAuth2PasswordBearer
from pydantic import BaseModel
from sqlmodel import Session

from accounts import credentials
from api.deps import SessionDep
from domain.enums import ActorKind, OrganisationKind
from domain.messages import Actor

SESSION_COOKIE = "socialrx_session"
HOW_TO_SIGN_IN = (
    "Sign in: POST your username and password as a form to /auth/token and send the token "
    "as 'Authorization: Bearer <token>', or send an API key as 'X-API-Key: <key>'."
)

bearer = OAuth2PasswordBearer(
    tokenUrl="/auth/token",
    auto_error=False,
    description="A token from POST /auth/token, or an API key (srx_...).",
)
api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key (srx_...) of a system."
)
session_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="The cookie POST /auth/token sets."
)


class Principal(BaseModel):
    subject: str
    """The user name, or ``key:<id>`` for an API key, as recorded in the audit trail."""
    organisation_kind: OrganisationKind
    organisation_id: str
    """ODS code, link-worker team id, catalogue organisation id, or commissioning body id."""
    link_worker_id: str | None = None
    """Set for a link worker signed in as themselves."""

    @property
    def actor(self) -> Actor:
        """The actor that workflow steps record: no names, only ids and kinds."""
        if self.link_worker_id is not None:
            return Actor(kind=ActorKind.LINK_WORKER, id=self.link_worker_id)
        kind = {
            OrganisationKind.PRACTICE: ActorKind.PRACTICE,
            OrganisationKind.ORGANISATION: ActorKind.ORGANISATION,
            OrganisationKind.LINK_WORKER_TEAM: ActorKind.LINK_WORKER,
            OrganisationKind.COMMISSIONER: ActorKind.ADMIN,
        }[self.organisation_kind]
        return Actor(kind=kind, id=self.organisation_id)

    def is_a(self, *kinds: OrganisationKind) -> bool:
        return self.organisation_kind in kinds


def unauthenticated(detail: str = HOW_TO_SIGN_IN) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


def get_current_principal(
    session: SessionDep,
    token: Annotated[str | None, Depends(bearer)],
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> Principal:
    """The caller of the JSON API: a bearer token or an API key, never the session cookie.
    A browser sends the cookie by itself, so a JSON route that took it could be driven by
    any page the person has open; the pages, which check a CSRF token, take it instead."""
    return principal_for(session, api_key or token)


def get_browser_principal(
    session: SessionDep,
    token: Annotated[str | None, Depends(bearer)],
    api_key: Annotated[str | None, Depends(api_key_header)],
    cookie: Annotated[str | None, Depends(session_cookie)],
) -> Principal:
    """The caller of a download a page links to (the printable report, the CSV files): as
    the JSON API, or by the session cookie. Only for GET routes that change nothing."""
    return principal_for(session, api_key or token or cookie)


def principal_for(session: Session, credential: str | None) -> Principal:
    """Whose token or API key ``credential`` is; 401 saying how to sign in if none."""
    if not credential:
        raise unauthenticated()
    try:
        if credentials.is_api_key(credential):
            return _principal_for_key(session, credential)
        user = credentials.user_for_token(session, credential)
        if user is None:
            raise unauthenticated(f"This sign-in has expired or ended. {HOW_TO_SIGN_IN}")
        # The team is the link worker's team now, not the one they had when the account
        # was made (``credentials.SignedIn``).
        return Principal(
            subject=user.username,
            organisation_kind=user.organisation_kind,
            organisation_id=user.organisation_id,
            link_worker_id=user.link_worker_id,
        )
    finally:
        # End the read, giving its connection back to the pool. Otherwise every request that
        # had signed in but not yet run held one, and with the pool taken, an async route's
        # next query waited on the event loop for a connection that only the loop could free
        # (20 concurrent submissions timed out after 30 s on PostgreSQL).
        session.commit()


def _principal_for_key(session: Session, credential: str) -> Principal:
    key = credentials.api_key_for(session, credential)
    if key is None:
        raise unauthenticated(
            f"This API key is unknown or revoked, or has expired. {HOW_TO_SIGN_IN}"
        )
    return Principal(
        subject=f"key:{key.id}",
        organisation_kind=key.organisation_kind,
        organisation_id=key.organisation_id,
    )


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]
BrowserPrincipal = Annotated[Principal, Depends(get_browser_principal)]
