"""One-shot messages large enough to take the fast paths: the in-place BytesIO output
and the background SHA-384 thread (signed suites, bodies >= 2 MiB)."""

from __future__ import annotations

import os

import pytest
from tests.sdk import sdk_peer as peer

from strongroom import sdk
from strongroom.sdk.api import _BACKGROUND_HASH_MIN

KEY = os.urandom(32)
DATA = os.urandom(_BACKGROUND_HASH_MIN + 1_000_001)  # not a multiple of the frame length


@pytest.fixture(scope="module")
def message() -> bytes:
    ciphertext, header = sdk.encrypt(DATA, keyring=sdk.RawAesKeyring("ns", "k", KEY))
    assert header.suite is sdk.AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384
    assert type(ciphertext) is bytes
    return ciphertext


def test_large_signed_message_interoperates(message: bytes) -> None:
    plain, _ = peer.client().decrypt(source=message, key_provider=peer.aes_provider("ns", "k", KEY))
    assert plain == DATA
    ours, _ = sdk.decrypt(message, keyring=sdk.RawAesKeyring("ns", "k", KEY))
    assert type(ours) is bytes and ours == DATA
    theirs, _ = peer.client().encrypt(source=DATA, key_provider=peer.aes_provider("ns", "k", KEY))
    assert sdk.decrypt(theirs, keyring=sdk.RawAesKeyring("ns", "k", KEY))[0] == DATA


@pytest.mark.parametrize("where", [100, 2_500_000, -120, -1])
def test_large_signed_message_tampering_fails(message: bytes, where: int) -> None:
    broken = bytearray(message)
    broken[where] ^= 0x01  # header, body (after the first hashed chunk), last frame, footer
    with pytest.raises(sdk.DecryptionError):
        sdk.decrypt(bytes(broken), keyring=sdk.RawAesKeyring("ns", "k", KEY))
    with pytest.raises(sdk.TruncatedMessageError):
        sdk.decrypt(message[:-200], keyring=sdk.RawAesKeyring("ns", "k", KEY))
