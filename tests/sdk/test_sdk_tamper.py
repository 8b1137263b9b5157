"""Fail closed: every single-byte change and every truncation of a message is refused."""

from __future__ import annotations

import pytest

from strongroom import sdk
from strongroom.sdk import AlgorithmSuite, CommitmentPolicy

KEYRING = sdk.RawAesKeyring("ns", "name", bytes(32))
ALLOW = CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT


def _message(suite: AlgorithmSuite, frame_length: int) -> bytes:
    policy = ALLOW if suite.committing else CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    message, _ = sdk.encrypt(
        b"attack at dawn!",
        keyring=KEYRING,
        algorithm_suite=suite,
        frame_length=frame_length,
        commitment_policy=policy,
        encryption_context={"k": "v"},
    )
    return message


CASES = [(0x0578, 4), (0x0478, 4), (0x0378, 4), (0x0178, 0), (0x0014, 4)]


@pytest.mark.parametrize(("suite_id", "frame"), CASES)
def test_every_bit_flip_fails(suite_id: int, frame: int) -> None:
    message = _message(AlgorithmSuite(suite_id), frame)
    for i in range(len(message)):
        tampered = bytearray(message)
        tampered[i] ^= 0x01
        with pytest.raises(sdk.SDKError):
            sdk.decrypt(bytes(tampered), keyring=KEYRING, commitment_policy=ALLOW)


@pytest.mark.parametrize(("suite_id", "frame"), CASES)
def test_every_truncation_fails(suite_id: int, frame: int) -> None:
    message = _message(AlgorithmSuite(suite_id), frame)
    for n in range(len(message)):
        with pytest.raises(sdk.DecryptionError):
            sdk.decrypt(message[:n], keyring=KEYRING, commitment_policy=ALLOW)
        with pytest.raises(sdk.DecryptionError):
            b"".join(sdk.decrypt_stream(message[:n], keyring=KEYRING, commitment_policy=ALLOW))


def test_trailing_bytes_fail() -> None:
    message = _message(AlgorithmSuite(0x0578), 4)
    with pytest.raises(sdk.MalformedMessageError):
        sdk.decrypt(message + b"\x00", keyring=KEYRING)
    with pytest.raises(sdk.MalformedMessageError):
        b"".join(sdk.decrypt_stream(message + b"\x00", keyring=KEYRING))


def test_precise_exceptions() -> None:
    message = bytearray(_message(AlgorithmSuite(0x0478), 4))
    wrong = sdk.RawAesKeyring("ns", "name", bytes(range(32)))
    with pytest.raises(sdk.NoDataKeyError):
        sdk.decrypt(bytes(message), keyring=wrong)
    last_tag = bytearray(message)
    last_tag[-1] ^= 1
    with pytest.raises(sdk.AuthenticationError):
        sdk.decrypt(bytes(last_tag), keyring=KEYRING)
    signed = bytearray(_message(AlgorithmSuite(0x0578), 4))
    signed[-1] ^= 1  # inside the DER signature
    with pytest.raises((sdk.SignatureError, sdk.MalformedMessageError)):
        sdk.decrypt(bytes(signed), keyring=KEYRING)
    with pytest.raises(sdk.TruncatedMessageError):
        sdk.decrypt(bytes(message[:-1]), keyring=KEYRING)
