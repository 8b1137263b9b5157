"""Streaming: file-like and iterator forms, memory bound, release rules for signed messages."""

from __future__ import annotations

import io
import os
import tracemalloc

import pytest

from strongroom import sdk

KEYRING = sdk.RawAesKeyring("ns", "name", bytes(32))


class ZeroFile(io.RawIOBase):
    """A large readable file that occupies no memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview) -> int:  # type: ignore[override]
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


class CountingSink(io.RawIOBase):
    def __init__(self) -> None:
        self.count = 0
        self.data = io.BytesIO()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.count += len(b)
        return len(b)


@pytest.mark.parametrize("frame", [0, 1, 100, 4096])
@pytest.mark.parametrize("suite_id", [0x0578, 0x0478, 0x0014])
def test_stream_round_trip_matches_one_shot(frame: int, suite_id: int) -> None:
    policy = (
        sdk.CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT
        if suite_id & 0x0400
        else sdk.CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    )
    for size in (0, 1, 99, 100, 101, 8192, 10_001):
        plaintext = os.urandom(size)
        source = io.BytesIO(plaintext)
        message = sdk.encrypt_stream(
            source,
            keyring=KEYRING,
            frame_length=frame,
            algorithm_suite=suite_id,
            commitment_policy=policy,
        ).read()
        assert sdk.decrypt(message, keyring=KEYRING, commitment_policy=policy)[0] == plaintext
        chunks = (message[i : i + 7] for i in range(0, len(message), 7))  # an iterator source
        assert (
            b"".join(sdk.decrypt_stream(chunks, keyring=KEYRING, commitment_policy=policy))
            == plaintext
        )


def test_file_like_read_and_header() -> None:
    message, _ = sdk.encrypt(b"hello world" * 100, keyring=KEYRING, encryption_context={"a": "b"})
    reader = sdk.decrypt_stream(io.BytesIO(message), keyring=KEYRING)
    assert reader.header.encryption_context["a"] == "b"
    out = b""
    while chunk := reader.read(10):
        out += chunk
    assert out == b"hello world" * 100


def _tampered_signature(frames: int) -> bytes:
    message, _ = sdk.encrypt(b"z" * (100 * frames), keyring=KEYRING, frame_length=100)
    broken = bytearray(message)
    broken[-5] ^= 0x40  # inside the signature
    return bytes(broken)


def test_signed_default_releases_nothing_before_signature() -> None:
    released: list[bytes] = []
    with pytest.raises(sdk.DecryptionError):
        for chunk in sdk.decrypt_stream(_tampered_signature(5), keyring=KEYRING):
            released.append(chunk)
    assert released == []


def test_signed_opt_in_releases_regular_frames_but_not_the_final_one() -> None:
    released: list[bytes] = []
    with pytest.raises(sdk.DecryptionError):
        for chunk in sdk.decrypt_stream(
            _tampered_signature(5), keyring=KEYRING, release_unverified=True
        ):
            released.append(chunk)
    assert len(released) == 4  # 4 regular frames; the final frame waited for the signature


def test_unsigned_only_refuses_before_any_plaintext() -> None:
    message, _ = sdk.encrypt(b"x", keyring=KEYRING)
    with pytest.raises(sdk.PolicyError):
        next(iter(sdk.decrypt_stream(message, keyring=KEYRING, unsigned_only=True)))


def test_memory_is_bounded_by_the_frame_not_the_message(tmp_path: object) -> None:
    size = 16 * 1024 * 1024
    path = os.path.join(str(tmp_path), "big.enc")
    tracemalloc.start()
    try:
        with open(path, "wb") as out:
            total = sdk.encrypt_stream(
                ZeroFile(size), keyring=KEYRING, algorithm_suite=0x0478
            ).write_to(out)
        enc_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        sink = CountingSink()
        with open(path, "rb") as src:
            sdk.decrypt_stream(src, keyring=KEYRING, release_unverified=True).write_to(sink)
        dec_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total > size and sink.count == size
    assert enc_peak < 2 * 1024 * 1024, enc_peak
    assert dec_peak < 2 * 1024 * 1024, dec_peak


def test_signed_streaming_with_opt_in_is_bounded(tmp_path: object) -> None:
    size = 8 * 1024 * 1024
    path = os.path.join(str(tmp_path), "big-signed.enc")
    with open(path, "wb") as out:
        sdk.encrypt_stream(ZeroFile(size), keyring=KEYRING).write_to(out)
    tracemalloc.start()
    try:
        sink = CountingSink()
        with open(path, "rb") as src:
            sdk.decrypt_stream(src, keyring=KEYRING, release_unverified=True).write_to(sink)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sink.count == size
    assert peak < 2 * 1024 * 1024, peak


def test_declared_plaintext_length_is_enforced() -> None:
    with pytest.raises(sdk.PolicyError):
        sdk.encrypt_stream(io.BytesIO(b"x" * 10_000), keyring=KEYRING, plaintext_length=100).read()
