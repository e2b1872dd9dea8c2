"""AES-GCM encryption of every payload this project hands to Temporal.

Workflow inputs, update arguments, results and query answers hold pseudonymous health data
(need codes, questionnaire answers). With this codec in the client's data converter, Temporal
stores and shows only ciphertext; anyone who reaches the server, its database or its UI
without a key sees nothing of them.

Each encrypted payload names its key in the metadata (``encryption-key-id``), so keys rotate:
the newest key encrypts, every known key decrypts. A payload that is not encrypted (written
before encryption was turned on) is passed through unchanged, so older histories still replay
and workflows already running carry on.
"""

import base64
import binascii
import os
from collections.abc import Mapping, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = (16, 24, 32)


class PayloadKeyError(ValueError):
    """A key that cannot be used, or a payload encrypted with a key that is not configured."""


class EncryptionCodec(PayloadCodec):
    """Encrypts with the last of ``keys`` (key ID -> raw AES key); decrypts with any."""

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        if not keys:
            raise PayloadKeyError("payload encryption needs at least one key")
        for key_id, key in keys.items():
            if not key_id or len(key) not in KEY_BYTES:
                raise PayloadKeyError(
                    f"payload key {key_id!r} must have an ID and 16, 24 or 32 bytes"
                )
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current_key_id = list(keys)[-1]

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(payload) for payload in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        key_id = self.current_key_id.encode()
        nonce = os.urandom(NONCE_BYTES)
        # The key ID is authenticated too, so a payload cannot be relabelled with another key.
        sealed = self._ciphers[self.current_key_id].encrypt(
            nonce, payload.SerializeToString(), key_id
        )
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(f"payload encrypted with key {key_id!r}, which is not configured")
        data = payload.data
        plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
        return Payload.FromString(plain)


def decode_keys(encoded: Mapping[str, str]) -> dict[str, bytes]:
    """Key ID -> raw key, from the base64 form that settings hold."""
    keys = {}
    for key_id, text in encoded.items():
        try:
            keys[key_id] = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise PayloadKeyError(f"payload key {key_id!r} is not valid base64") from None
    return keys


def new_key() -> str:
    """A fresh 256-bit key, base64, for ``socialrx codec-server --new-key`` and the docs."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()
