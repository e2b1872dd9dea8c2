"""What keeps the pages safe: CSRF tokens for every form, and the headers of every page.

A form's CSRF token is an HMAC of a cookie the browser holds, keyed with
``settings.csrf_secret``: of the session cookie once signed in, else of a sign-in cookie
(so even the sign-in form cannot be posted from another site). Both cookies are HttpOnly and
SameSite=Strict, so another site can neither read them nor compute the token.
"""

import hashlib
import hmac
import secrets

from fastapi import Request, Response
from pydantic import SecretStr

from api.principal import SESSION_COOKIE
from core.settings import Settings

CSRF_FIELD = "csrf_token"
SIGN_IN_COOKIE = "socialrx_sign_in"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The NHS.UK stylesheet loads the Frutiger font from here; if it cannot, Arial is used.
FONT_HOST = "https://assets.nhs.uk"


def _token(secret: SecretStr, purpose: str, value: str) -> str:
    key = secret.get_secret_value().encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_token_for(request: Request, settings: Settings) -> tuple[str, str | None]:
    """The token this request's forms carry, and a new sign-in cookie value to set, if the
    browser needs one (signed out and without one yet)."""
    session_token = request.cookies.get(SESSION_COOKIE)
    if getattr(request.state, "principal", None) is not None and session_token:
        return _token(settings.csrf_secret, "session", session_token), None
    sign_in_value = request.cookies.get(SIGN_IN_COOKIE)
    new_value = None if sign_in_value else secrets.token_urlsafe(32)
    return _token(settings.csrf_secret, "sign-in", sign_in_value or str(new_value)), new_value


def csrf_token_is_valid(request: Request, settings: Settings, sent: str) -> bool:
    """Whether ``sent`` is the token of one of the cookies this browser holds."""
    held = [
        ("session", request.cookies.get(SESSION_COOKIE)),
        ("sign-in", request.cookies.get(SIGN_IN_COOKIE)),
    ]
    return bool(sent) and any(
        hmac.compare_digest(sent, _token(settings.csrf_secret, purpose, value))
        for purpose, value in held
        if value
    )


def set_sign_in_cookie(response: Response, value: str, settings: Settings) -> None:
    response.set_cookie(
        SIGN_IN_COOKIE,
        value,
        httponly=True,
        secure=settings.session_cookie_secure,
        samesite="strict",
    )


def content_security_policy(nonce: str) -> str:
    # No inline script but the page template's one line that marks JavaScript as available,
    # which carries this response's nonce.
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            f"font-src 'self' {FONT_HOST}",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


def add_page_headers(response: Response, nonce: str) -> None:
    response.headers["Content-Security-Policy"] = content_security_policy(nonce)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    # Pages show patient data: no copy of any is kept by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
