"""Local AES-256-GCM under a KMS data key: the second half of envelope encryption.

Services that store values larger than KMS's 4,096-byte ``Encrypt`` limit
(advanced SSM parameters, Secrets Manager secrets) ask KMS for a data key
(``GenerateDataKey``), encrypt the value here with its plaintext, keep only
the KMS-encrypted copy of the data key next to the result, and drop the
plaintext key. Reading asks KMS to decrypt the data key (which is where the
caller's ``kms:Decrypt`` permission is checked) and opens the value here.

Blob layout: ``version (1 byte, 0x01) || nonce (12 bytes) || ciphertext||tag``.
The caller's ``aad`` binds the value to where it belongs (for SSM the
parameter ARN), so a blob moved to another record fails to open.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"
_NONCE_BYTES = 12
DATA_KEY_BYTES = 32


class EnvelopeError(ValueError):
    """The blob is malformed, or its tag does not verify under this key and AAD."""


def seal(data_key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    if len(data_key) != DATA_KEY_BYTES:
        raise ValueError("data key must be 32 bytes (AES-256)")
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + AESGCM(data_key).encrypt(nonce, plaintext, _VERSION + aad)


def open_sealed(data_key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(data_key) != DATA_KEY_BYTES:
        raise ValueError("data key must be 32 bytes (AES-256)")
    if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _VERSION:
        raise EnvelopeError("not an envelope blob")
    nonce = blob[1 : 1 + _NONCE_BYTES]
    try:
        return AESGCM(data_key).decrypt(nonce, blob[1 + _NONCE_BYTES :], _VERSION + aad)
    except InvalidTag as exc:
        raise EnvelopeError("envelope blob does not verify") from exc
