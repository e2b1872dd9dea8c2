"""``socialrx codec-server``: Temporal's remote codec protocol over the payload encryption keys.

The Temporal UI (``TEMPORAL_CODEC_ENDPOINT``) and CLI (``temporal ... --codec-endpoint URL
--codec-auth "Bearer TOKEN"``) send payloads as JSON, ``{"payloads": [...]}``, to ``/decode``
(to show them) and ``/encode`` (to send inputs), and get them back in the same shape. Every
call must carry ``Authorization: Bearer <SOCIALRX_CODEC_SERVER__TOKEN>``: whoever can call
this reads the decrypted workflow data. Payloads are never logged.
"""

import secrets
from collections.abc import Awaitable, Callable, Sequence

import typer
from fastapi import FastAPI, HTTPException, Request, Response, status
from fastapi.middleware.cors import CORSMiddleware
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload, Payloads

from core.payload_encryption import EncryptionCodec, PayloadKeyError, new_key
from core.settings import CodecServerSettings, Settings, get_settings
from core.temporal import payload_codec_for

# The UI sends one event's payloads at a time; anything near this is not a history's.
MAX_BODY_BYTES = 4 * 1024 * 1024

Transform = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


def create_codec_app(codec: EncryptionCodec, settings: CodecServerSettings) -> FastAPI:
    token = settings.token.get_secret_value()
    if not token:
        raise ValueError("the codec server needs SOCIALRX_CODEC_SERVER__TOKEN")
    expected = f"Bearer {token}".encode()

    app = FastAPI(title="socialrx codec server", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[settings.allowed_origin],
        allow_methods=["POST"],
        allow_headers=["authorization", "content-type", "x-namespace"],
        allow_credentials=True,
    )

    async def apply(request: Request, transform: Transform) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not secrets.compare_digest(given, expected):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "Send Authorization: Bearer <the codec server's token>.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"At most {MAX_BODY_BYTES} bytes."
            )
        try:
            payloads = json_format.Parse(body, Payloads())
        except (json_format.ParseError, DecodeError, UnicodeDecodeError):
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, 'Send JSON: {"payloads": [...]}.'
            ) from None
        try:
            transformed = await transform(payloads.payloads)
        except PayloadKeyError as error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
        except Exception:  # a payload that does not decrypt: tampered, or not ours
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "A payload could not be decrypted."
            ) from None
        return Response(
            json_format.MessageToJson(Payloads(payloads=transformed)),
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    @app.post("/encode")
    async def encode(request: Request) -> Response:
        return await apply(request, codec.encode)

    @app.post("/decode")
    async def decode(request: Request) -> Response:
        return await apply(request, codec.decode)

    return app


def codec_app_from(settings: Settings) -> FastAPI:
    codec = payload_codec_for(settings.temporal)
    if codec is None:
        raise ValueError("the codec server needs SOCIALRX_TEMPORAL__PAYLOAD_KEYS")
    return create_codec_app(codec, settings.codec_server)


def codec_server() -> None:
    """Serve Temporal's remote codec (/encode, /decode) so the Temporal UI and CLI can show
    encrypted payloads to staff holding SOCIALRX_CODEC_SERVER__TOKEN.

    Listens on SOCIALRX_CODEC_SERVER__HOST:SOCIALRX_CODEC_SERVER__PORT with the keys of
    SOCIALRX_TEMPORAL__PAYLOAD_KEYS, and allows the browser origin
    SOCIALRX_CODEC_SERVER__ALLOWED_ORIGIN (the Temporal UI's).
    """
    import uvicorn

    settings = get_settings()
    try:
        app = codec_app_from(settings)
    except ValueError as error:
        typer.echo(f"socialrx codec-server: {error}", err=True)
        raise typer.Exit(2) from None
    uvicorn.run(
        app,
        host=settings.codec_server.host,
        port=settings.codec_server.port,
        log_level=settings.log_level.lower(),
    )


def payload_key() -> None:
    """Print a new random 256-bit payload encryption key, base64, to add (last) to
    SOCIALRX_TEMPORAL__PAYLOAD_KEYS under a new key ID: see docs/security.md on rotation."""
    typer.echo(new_key())
