"""Local AES-256-GCM under a KMS data key: the second half of envelope encryption.

Services that store values larger than KMS's 4,096-byte ``Encrypt`` limit
(advanced SSM parameters, every Secrets Manager secret version) ask KMS for
a data key (``GenerateDataKey``), encrypt the value here with its plaintext,
keep only the KMS-encrypted copy of the data key next to the result, and drop
the plaintext key. Reading asks KMS to decrypt the data key (which is where
the caller's ``kms:Decrypt`` permission is checked) and opens the value here.
This module is the only copy of that primitive: the services own the KMS
calls and what the AAD says, never the cipher.

Blob layout, format version 1 (the only one)::

    version    1 byte     0x01
    nonce      12 bytes   random per seal, never reused under a data key
    ciphertext n bytes    AES-256-GCM of the value (same length as it)
    tag        16 bytes   GCM tag over ciphertext and ``version || aad``

The version byte is authenticated too (it prefixes the AAD): a blob cannot be
relabelled as another format. A new format takes a new version byte and
:func:`open_sealed` keeps opening the old ones.

The caller's ``aad`` binds the value to where it belongs, so a blob moved to
another record fails to open: SSM uses the parameter ARN (its KMS encryption
context as JSON), Secrets Manager ``"strongroom-secretsmanager-v1\n" || ARN
|| "\n" || version id``.
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
