"""Signing in and out: a short-lived bearer token, also set as an HttpOnly cookie."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from accounts import credentials
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
    },
)
def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    user = credentials.check_password(session, form.username, form.password)
    if user is None:
        raise unauthenticated("Wrong user name or password, or the account is deactivated.")
    lifetime = settings.session_lifetime
    token, _ = credentials.start_session(session, user, lifetime)
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
