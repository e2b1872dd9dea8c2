"""Payloads handed to Temporal are AES-GCM ciphertext naming their key; keys rotate."""

import base64
from uuid import uuid4

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from core.payload_encryption import (
    ENCODING,
    KEY_ID,
    EncryptionCodec,
    PayloadKeyError,
    decode_keys,
    new_key,
)
from core.settings import Settings, TemporalConnectionSettings
from core.temporal import DATA_CONVERTER, data_converter_for
from domain.messages import ReferralInput

OLD, NEW = new_key(), new_key()
ANSWERS = {"need_codes": ["sp-mental-health"], "answers": {"item1": 4}}


def codec(**keys: str) -> EncryptionCodec:
    return EncryptionCodec(decode_keys(keys))


def plain(value: object) -> Payload:
    return DATA_CONVERTER.payload_converter.to_payloads([value])[0]


async def test_a_payload_becomes_ciphertext_that_names_its_key() -> None:
    (sealed,) = await codec(old=OLD).encode([plain(ANSWERS)])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == b"old"
    for word in (b"sp-mental-health", b"item1", b"need_codes", b"json"):
        assert word not in sealed.SerializeToString()
    (opened,) = await codec(old=OLD).decode([sealed])
    assert opened == plain(ANSWERS)


async def test_the_same_payload_never_encrypts_the_same_way_twice() -> None:
    first, second = await codec(old=OLD).encode([plain(ANSWERS), plain(ANSWERS)])
    assert first.data != second.data


async def test_after_rotation_the_newest_key_encrypts_and_every_known_key_decrypts() -> None:
    (before,) = await codec(old=OLD).encode([plain(ANSWERS)])
    rotated = codec(old=OLD, new=NEW)
    (after,) = await rotated.encode([plain(ANSWERS)])
    assert after.metadata[KEY_ID] == b"new"
    assert await rotated.decode([before, after]) == [plain(ANSWERS), plain(ANSWERS)]


async def test_a_payload_of_a_key_no_longer_configured_is_refused_by_name() -> None:
    (sealed,) = await codec(old=OLD).encode([plain(ANSWERS)])
    with pytest.raises(PayloadKeyError, match="'old'"):
        await codec(new=NEW).decode([sealed])


async def test_a_tampered_or_relabelled_payload_does_not_decrypt() -> None:
    (sealed,) = await codec(old=OLD).encode([plain(ANSWERS)])
    flipped = Payload(
        metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    with pytest.raises(InvalidTag):
        await codec(old=OLD).decode([flipped])
    # The key ID is authenticated: the same key under another ID does not open it.
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"other"}, data=sealed.data)
    with pytest.raises(InvalidTag):
        await codec(old=OLD, other=OLD).decode([relabelled])


async def test_a_payload_written_before_encryption_passes_through() -> None:
    assert await codec(old=OLD).decode([plain(ANSWERS)]) == [plain(ANSWERS)]


def test_unusable_keys_are_refused_with_their_id() -> None:
    with pytest.raises(PayloadKeyError, match="at least one key"):
        EncryptionCodec({})
    with pytest.raises(PayloadKeyError, match="'short'"):
        codec(short=base64.b64encode(b"too short").decode())
    with pytest.raises(PayloadKeyError, match=r"'typo'.*base64"):
        decode_keys({"typo": "not base64!"})


async def test_keys_come_from_settings_and_the_pydantic_converter_stays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "SOCIALRX_TEMPORAL__PAYLOAD_KEYS", f'{{"2026-11": "{OLD}", "2026-12": "{NEW}"}}'
    )
    converter = data_converter_for(Settings().temporal)
    assert converter.payload_converter_class is DATA_CONVERTER.payload_converter_class
    assert isinstance(converter.payload_codec, EncryptionCodec)
    assert converter.payload_codec.current_key_id == "2026-12"
    message = ReferralInput(referral_id=uuid4(), practice_ods="A81001", need_codes=["sp-debt"])
    (sealed,) = await converter.encode([message])
    assert b"sp-debt" not in sealed.data
    assert data_converter_for(TemporalConnectionSettings()) is DATA_CONVERTER
    assert await converter.decode([sealed], [ReferralInput]) == [message]


def test_a_bad_key_in_the_environment_stops_start_up_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALRX_TEMPORAL__PAYLOAD_KEYS", '{"2026-12": "c2hvcnQ="}')
    with pytest.raises(ValueError, match="'2026-12'") as refused:
        Settings()
    assert "c2hvcnQ=" not in str(refused.value), "the refusal echoes the key"
