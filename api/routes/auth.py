"""Signing in and out: a short-lived bearer token, also set as an HttpOnly cookie."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from sqlmodel import Session

from accounts import credentials
from accounts.sign_in import PasswordGate, SignInRefused
from accounts.sign_in import sign_in as guarded_sign_in
from api.deps import SessionDep, SettingsDep
from api.errors import PUBLIC, SIGNED_IN, problem
from api.principal import (
    SESSION_COOKIE,
    CurrentPrincipal,
    Principal,
    bearer,
    session_cookie,
    unauthenticated,
)
from core.settings import Settings

router = APIRouter(prefix="/auth", tags=["sign in"])


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires; then sign in again.")


class SignedOut(BaseModel):
    signed_out: bool


@router.post(
    "/token",
    response_model=Token,
    summary="Sign in with user name and password (OAuth2 password form)",
    responses={
        **PUBLIC,
        401: problem("Wrong user name or password, or the account is deactivated."),
        429: problem(
            "Too many failed sign-ins for this user name or from this address; the "
            "Retry-After header says in how many seconds to try again."
        ),
        503: problem("Too many sign-ins at once, or the database did not answer; try again."),
    },
)
async def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    # async: it waits for its turn to hash on the event loop (``accounts.sign_in``); every
    # database query and the hashing itself run in worker threads.
    try:
        return await start_session(
            request, response, session, settings, form.username, form.password
        )
    except SignInRefused as refusal:
        if refusal.retry_after is None:
            raise unauthenticated(str(refusal)) from refusal
        headers = {"Retry-After": str(refusal.retry_after)}
        raise HTTPException(refusal.status_code, str(refusal), headers=headers) from refusal


async def start_session(
    request: Request,
    response: Response,
    session: Session,
    settings: Settings,
    username: str,
    password: str,
) -> Token:
    """Sign in (``accounts.sign_in``: throttled, hashing capped, refusals logged) and set the
    session cookie on ``response``; raises ``SignInRefused``. The sign-in page uses it too."""
    gate: PasswordGate = request.app.state.password_gate
    route = getattr(request.scope.get("route"), "path", request.url.path)
    address = request.client.host if request.client else "unknown"
    user = await guarded_sign_in(
        session,
        settings.sign_in,
        gate,
        username,
        password,
        address,
        action=f"{request.method} {route}",
    )
    lifetime = settings.session_lifetime
    token, _ = await run_in_threadpool(credentials.start_session, session, user, lifetime)
    seconds = int(lifetime.total_seconds())
    # For web pages: script cannot read it, and other sites cannot make the browser send it.
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=seconds,
        httponly=True,
        secure=settings.session_cookie_secure,
        samesite="strict",
    )
    return Token(access_token=token, expires_in=seconds)


@router.get(
    "/me", response_model=Principal, responses=SIGNED_IN, summary="Who you are signed in as"
)
def who_am_i(principal: CurrentPrincipal) -> Principal:
    return principal


@router.post(
    "/sign-out", response_model=SignedOut, responses=SIGNED_IN, summary="End this sign-in session"
)
def sign_out(
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    token: Annotated[str | None, Depends(bearer)],
    cookie: Annotated[str | None, Depends(session_cookie)],
) -> SignedOut:
    # An API key is not a session: it ends only when revoked (socialrx keys revoke).
    for credential in {token, cookie} - {None}:
        if credential and not credentials.is_api_key(credential):
            credentials.end_session(session, credential)
    response.delete_cookie(SESSION_COOKIE)
    return SignedOut(signed_out=True)
