"""How a page route runs: who the caller is, the CSRF check, error pages and headers.

Every page router is ``APIRouter(route_class=PageRoute)``. A page route then:

- takes ``PageAccess`` (an ``api.access.Access``, the same rules as the JSON API) to know
  the caller; signed out, the browser is sent to sign in and comes back afterwards;
- for any method but GET/HEAD/OPTIONS, is refused with 403 before it runs unless the form
  carries this browser's CSRF token (``csrf_token``, which ``render`` gives every template);
- answers an ``HTTPException`` (a foreign object's 404 from ``Access``, a 403) as a page;
- gets the security headers, with a fresh nonce for the one inline script.
"""

import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from accounts import credentials
from api.access import Access
from api.deps import SessionDep
from api.principal import SESSION_COOKIE, Principal, principal_for, session_cookie
from api.web.security import (
    CSRF_FIELD,
    SAFE_METHODS,
    add_page_headers,
    csrf_token_is_valid,
)
from api.web.templating import render
from core.settings import Settings
from domain.enums import OrganisationKind

SIGN_IN_PATH = "/sign-in"


class SignInNeeded(Exception):
    """The browser holds no live session: it is sent to the sign-in page."""


class FormExpired(Exception):
    """A state-changing form came without this browser's CSRF token."""


def _signed_in(session: Session, cookie: str | None) -> Principal | None:
    """The person whose live session ``cookie`` is; pages are for people, so an API key is
    no way in."""
    if not cookie or credentials.is_api_key(cookie):
        return None
    try:
        return principal_for(session, cookie)
    except HTTPException:
        return None


def page_access(
    request: Request,
    session: SessionDep,
    cookie: Annotated[str | None, Depends(session_cookie)],
) -> Access:
    """The signed-in person, as an ``Access``. A plain ``def``: finding the session is
    database work."""
    principal = _signed_in(session, cookie)
    if principal is None:
        raise SignInNeeded
    request.state.principal = principal
    return Access(session, principal, request)


async def _note_who_is_signed_in(request: Request) -> None:
    """For a page shown before the route ran (a refused form): its header still says who is
    signed in and shows their navigation."""

    def find() -> None:
        with Session(request.app.state.engine) as session:
            request.state.principal = _signed_in(session, request.cookies.get(SESSION_COOKIE))

    await run_in_threadpool(find)


PageAccess = Annotated[Access, Depends(page_access)]


def role_or_404(access: Access, kind: OrganisationKind) -> None:
    """Another role's pages do not exist for this caller, as in the JSON API."""
    if not access.principal.is_a(kind):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")


def local_path(candidate: str | None, default: str = "/") -> str:
    """``candidate`` if it is a path on this site, else ``default``: a sign-in link must not
    send anyone to another site."""
    if not candidate:
        return default
    parts = urlsplit(candidate)
    if (
        parts.scheme
        or parts.netloc
        or not candidate.startswith("/")
        or candidate.startswith("//")
        or "\\" in candidate
        or any(ord(character) < 32 for character in candidate)
    ):
        return default
    return candidate


def sign_in_url(request: Request) -> str:
    # Only a page can be returned to: a form's address answers POST only.
    path = request.url.path
    if request.url.query:
        path += f"?{request.url.query}"
    if request.method != "GET" or path == "/":
        return SIGN_IN_PATH
    return f"{SIGN_IN_PATH}?{urlencode({'next': path})}"


def error_page(request: Request, status_code: int, detail: object = None) -> Response:
    if status_code == status.HTTP_404_NOT_FOUND:
        title = "Page not found"
    elif status_code == status.HTTP_403_FORBIDDEN:
        title = "You cannot do this"
    elif status_code < status.HTTP_500_INTERNAL_SERVER_ERROR:
        title = "There is a problem"
    else:
        title = "Sorry, there is a problem with the service"
    return render(
        request,
        "error.html",
        status_code=status_code,
        title=title,
        error_status=status_code,
        detail=detail if isinstance(detail, str) else None,
    )


async def _check_csrf(request: Request) -> None:
    settings: Settings = request.app.state.settings
    form = await request.form()  # kept by the request, so the route reads it again for free
    sent = form.get(CSRF_FIELD)
    if not (isinstance(sent, str) and csrf_token_is_valid(request, settings, sent)):
        raise FormExpired


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_page(request: Request) -> Response:
            nonce = secrets.token_urlsafe(16)
            request.state.csp_nonce = nonce
            try:
                if request.method not in SAFE_METHODS:
                    await _check_csrf(request)
                response = await handle(request)
            except SignInNeeded:
                response = RedirectResponse(sign_in_url(request), status.HTTP_303_SEE_OTHER)
            except FormExpired:
                await _note_who_is_signed_in(request)
                response = render(
                    request,
                    "form_expired.html",
                    status_code=status.HTTP_403_FORBIDDEN,
                    title="Your form could not be sent",
                )
            except StarletteHTTPException as error:
                response = error_page(request, error.status_code, error.detail)
            except RequestValidationError as error:
                # A malformed id in the address names nothing, as an unknown one does.
                in_path = all(issue["loc"][0] == "path" for issue in error.errors())
                response = error_page(request, 404 if in_path else 400)
            add_page_headers(response, nonce)
            return response

        return handle_page
