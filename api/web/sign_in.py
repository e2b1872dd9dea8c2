"""Signing in and out with a user name and password, for people using the pages.

The session is the JSON API's (``POST /auth/token``): the same cookie, set by the same code.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.responses import RedirectResponse

from accounts.sign_in import SignInRefused
from api.deps import SessionDep, SettingsDep
from api.principal import SESSION_COOKIE
from api.routes import auth
from api.web.navigation import first_page
from api.web.pages import SIGN_IN_PATH, PageAccess, PageRoute, local_path
from api.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _form(
    request: Request,
    next_path: str,
    username: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    signed_out: bool = False,
) -> Response:
    return render(
        request,
        "sign_in.html",
        status_code=status_code,
        title="Sign in",
        next_path=next_path,
        username=username,
        errors=errors or {},
        banner="You have signed out." if signed_out else None,
    )


@router.get(SIGN_IN_PATH)
def sign_in_page(request: Request, next: str | None = None, signed_out: bool = False) -> Response:
    return _form(request, local_path(next, ""), signed_out=signed_out)


@router.post(SIGN_IN_PATH)
async def sign_in(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    next_path = local_path(next, "")
    username = username.strip()
    errors = {}
    if not username:
        errors["username"] = "Enter your user name"
    if not password:
        errors["password"] = "Enter your password"
    if errors:
        return _form(request, next_path, username, errors, status.HTTP_400_BAD_REQUEST)
    # Where to go depends on who signs in, which is known only afterwards: the response is
    # made first so that the JSON API's sign-in sets its cookie on it.
    response = RedirectResponse(next_path or "/", status.HTTP_303_SEE_OTHER)
    try:
        # async, as the JSON API's: the database and the hashing run in worker threads.
        await auth.start_session(request, response, session, settings, username, password)
    except SignInRefused as refusal:
        if refusal.retry_after is None:
            # One message for both fields: which of the two was wrong is not told.
            wrong = {"username": "Enter a correct user name and password"}
            return _form(request, next_path, username, wrong, status.HTTP_401_UNAUTHORIZED)
        # Locked, or busy: say so plainly, and when to try again.
        page = _form(request, next_path, username, {"username": str(refusal)}, refusal.status_code)
        page.headers["Retry-After"] = str(refusal.retry_after)
        return page
    return response


@router.post("/sign-out")
def sign_out(request: Request, access: PageAccess) -> Response:
    response = RedirectResponse(f"{SIGN_IN_PATH}?signed_out=1", status.HTTP_303_SEE_OTHER)
    cookie = request.cookies.get(SESSION_COOKIE)
    auth.sign_out(response, access.session, access.principal, None, cookie)
    return response


@router.get("/")
def home(access: PageAccess) -> Response:
    return RedirectResponse(first_page(access.principal), status.HTTP_303_SEE_OTHER)
