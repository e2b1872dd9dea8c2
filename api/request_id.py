"""Every request has an ID, on each of its log lines and in its answer's ``X-Request-ID``:
the caller's (a proxy's) when it is a short token, a new one otherwise."""

import re
from uuid import uuid4

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import REQUEST_ID

HEADER = "X-Request-ID"
# Letters, digits and - _ . : only, up to 64: an ID is echoed into logs and headers, so it
# must not carry a line break, a quote or a novel.
ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_from(sent: str | None) -> str:
    if sent is not None and ACCEPTABLE.fullmatch(sent):
        return sent
    return uuid4().hex


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(HEADER.lower().encode())
        request_id = request_id_from(sent.decode("latin-1") if sent is not None else None)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
