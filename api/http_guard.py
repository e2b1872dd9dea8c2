"""What every HTTP response and request goes through before any route: the size of a request
body, and the security headers of every response. Pure ASGI middleware, so that an oversized
body is refused before authentication (a password hash, a database read) costs anything, and
so that no response (an error, a 404 of routing, a redirect) leaves without the headers.
"""

import json
from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.fhir.errors import FhirError, is_fhir_path, operation_outcome
from api.fhir.systems import FHIR_JSON
from core.settings import Settings

STATIC_PREFIX = "/static"
# The JSON API's policy: it serves no document a browser should render, run or frame.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
# FastAPI's interactive docs load Swagger UI with an inline script: they get only the frame
# rule here (whether they are served at all is a setting of their own).
DOCS_CONTENT_SECURITY_POLICY = "frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """413 for a request body over ``settings.max_body_size`` (``max_fhir_body_size`` under
    /fhir), whether its Content-Length says so or it streams more (chunked): before any
    route, dependency or sign-in runs. A chunked body is read here, up to the limit, and
    handed on as it came."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limit_for: Callable[[str], int] = lambda path: (
            settings.max_fhir_body_size if is_fhir_path(path) else settings.max_body_size
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.limit_for(path)
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await _refuse(send, path, 400, "Content-Length must be a whole number of bytes.")
            elif int(declared) > limit:
                await _refuse(send, path, 413, _too_large(limit))
            else:
                # The server reads exactly Content-Length bytes: no more can arrive.
                await self.app(scope, receive, send)
            return
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            await self.app(scope, receive, send)
            return
        try:
            messages = await _read_up_to(receive, limit)
        except BodyTooLarge:
            await _refuse(send, path, 413, _too_large(limit))
            return
        await self.app(scope, _replay(messages, receive), send)


async def _read_up_to(receive: Receive, limit: int) -> list[Message]:
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages  # the client went away; the app hears it too
        size += len(message.get("body", b""))
        if size > limit:
            raise BodyTooLarge
        if not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def _too_large(limit: int) -> str:
    return f"The request body is too large: send at most {limit} bytes ({limit // 1024} KiB)."


async def _refuse(send: Send, path: str, status_code: int, message: str) -> None:
    body: dict[str, Any]
    if is_fhir_path(path):
        body, media_type = operation_outcome(FhirError.one(status_code, message)), FHIR_JSON
    else:
        body, media_type = {"detail": message}, "application/json"
    content = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status_code,
            "headers": [
                (b"content-type", media_type.encode()),
                (b"content-length", str(len(content)).encode()),
                # The rest of the body is not read: the connection cannot be reused.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})


class SecurityHeaders:
    """The headers of every response: HTTPS only from now on (HSTS), no MIME sniffing, no
    framing, no referrer, and nothing kept in any cache (every response but the static
    assets may carry patient data). The pages set their own Content-Security-Policy, with a
    nonce (``api.web.security``); anything else gets the JSON API's, which allows nothing."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.hsts = f"max-age={settings.hsts_max_age}; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Strict-Transport-Security"] = self.hsts
                headers["X-Content-Type-Options"] = "nosniff"
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Content-Security-Policy", _policy_for(path))
                if not path.startswith(f"{STATIC_PREFIX}/"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _policy_for(path: str) -> str:
    if path in DOCS_PATHS or path.startswith("/docs/"):
        return DOCS_CONTENT_SECURITY_POLICY
    return API_CONTENT_SECURITY_POLICY
