"""strongroom.crypto.envelope: AES-256-GCM under a data key, bound to its AAD."""

from __future__ import annotations

import os

import pytest

from strongroom.crypto.envelope import EnvelopeError, open_sealed, seal


def test_round_trip_and_fresh_nonces() -> None:
    key = os.urandom(32)
    blobs = {seal(key, b"value", b"aad") for _ in range(4)}
    assert len(blobs) == 4
    for blob in blobs:
        assert open_sealed(key, blob, b"aad") == b"value"
        assert b"value" not in blob


def test_wrong_key_aad_or_tampering_fail() -> None:
    key = os.urandom(32)
    blob = seal(key, b"value", b"aad")
    with pytest.raises(EnvelopeError):
        open_sealed(os.urandom(32), blob, b"aad")
    with pytest.raises(EnvelopeError):
        open_sealed(key, blob, b"other")
    for i in range(len(blob)):
        flipped = bytearray(blob)
        flipped[i] ^= 1
        with pytest.raises(EnvelopeError):
            open_sealed(key, bytes(flipped), b"aad")
    with pytest.raises(EnvelopeError):
        open_sealed(key, blob[:10], b"aad")


def test_key_size_is_checked() -> None:
    with pytest.raises(ValueError):
        seal(b"short", b"v", b"")
    with pytest.raises(ValueError):
        open_sealed(b"short", b"v" * 40, b"")
