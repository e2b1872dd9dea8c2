"""`socialrx codec-server` speaks Temporal's remote codec protocol, to bearer-token holders
only, and lets the Temporal UI's origin (and no other) call it from a browser."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from google.protobuf import json_format
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload, Payloads

from core.payload_encryption import EncryptionCodec, decode_keys, new_key
from core.settings import CodecServerSettings, Settings, TemporalConnectionSettings
from core.temporal import DATA_CONVERTER
from socialrx.codec_server import codec_app_from, create_codec_app

TOKEN = "a-long-random-token"
UI = "http://127.0.0.1:8080"
OLD, NEW = new_key(), new_key()
BEARER = {"Authorization": f"Bearer {TOKEN}", "X-Namespace": "default"}


def settings(**keys: str) -> Settings:
    return Settings(
        temporal=TemporalConnectionSettings(
            payload_keys={key_id: SecretStr(key) for key_id, key in keys.items()}
        ),
        codec_server=CodecServerSettings(token=SecretStr(TOKEN), allowed_origin=UI),
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # Rotated: "old" still decrypts what it sealed, "new" seals.
    transport = httpx.ASGITransport(app=codec_app_from(settings(old=OLD, new=NEW)))
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as client:
        yield client


def as_json(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=payloads))


def from_json(text: str) -> list[Payload]:
    return list(json_format.Parse(text, Payloads()).payloads)


async def test_decode_opens_payloads_sealed_with_an_older_key(http: httpx.AsyncClient) -> None:
    plain = DATA_CONVERTER.payload_converter.to_payloads([{"need_codes": ["sp-debt"]}])[0]
    (sealed,) = await EncryptionCodec(decode_keys({"old": OLD})).encode([plain])
    response = await http.post("/decode", content=as_json(sealed), headers=BEARER)
    assert response.status_code == 200, response.text
    assert from_json(response.text) == [plain]
    assert response.headers["Cache-Control"] == "no-store"


async def test_encode_seals_with_the_newest_key(http: httpx.AsyncClient) -> None:
    plain = DATA_CONVERTER.payload_converter.to_payloads(["sp-debt"])[0]
    response = await http.post("/encode", content=as_json(plain), headers=BEARER)
    assert response.status_code == 200, response.text
    (sealed,) = from_json(response.text)
    assert sealed.metadata["encryption-key-id"] == b"new"
    assert b"sp-debt" not in sealed.data


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", TOKEN, f"Basic {TOKEN}"])
async def test_without_the_bearer_token_nothing_is_decoded(
    http: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await http.post("/decode", content=as_json(), headers=headers)
    assert response.status_code == 401
    assert "payloads" not in response.text


async def test_a_body_that_is_not_payloads_json_is_a_400_saying_what_to_send(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post("/decode", content=b"{not json", headers=BEARER)
    assert response.status_code == 400
    assert "payloads" in response.json()["detail"]


async def test_a_payload_of_an_unknown_key_is_a_422_naming_the_key() -> None:
    transport = httpx.ASGITransport(app=codec_app_from(settings(new=NEW)))
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as http:
        plain = DATA_CONVERTER.payload_converter.to_payloads(["x"])[0]
        (sealed,) = await EncryptionCodec(decode_keys({"old": OLD})).encode([plain])
        response = await http.post("/decode", content=as_json(sealed), headers=BEARER)
    assert response.status_code == 422
    assert "'old'" in response.json()["detail"]


async def test_the_temporal_ui_origin_may_call_it_from_a_browser_and_no_other(
    http: httpx.AsyncClient,
) -> None:
    def preflight(origin: str) -> dict[str, str]:
        return {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        }

    allowed = await http.options("/decode", headers=preflight(UI))
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == UI
    elsewhere = await http.options("/decode", headers=preflight("https://evil.example"))
    assert "Access-Control-Allow-Origin" not in elsewhere.headers
    answer = await http.post("/decode", content=as_json(), headers={**BEARER, "Origin": UI})
    assert answer.headers["Access-Control-Allow-Origin"] == UI
    assert json.loads(answer.text) == {}


def test_it_will_not_start_without_a_token_or_keys() -> None:
    with pytest.raises(ValueError, match="TOKEN"):
        create_codec_app(EncryptionCodec(decode_keys({"k": NEW})), CodecServerSettings())
    with pytest.raises(ValueError, match="PAYLOAD_KEYS"):
        codec_app_from(settings())
