"""Byte compatibility with the official aws-encryption-sdk, in both directions."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.sdk import sdk_peer as peer

from strongroom import sdk
from strongroom.sdk import AlgorithmSuite, CommitmentPolicy, RsaPadding

NAMESPACE, NAME = "strongroom-test", "key-1"
AES_KEY = bytes(range(32))
LARGE_CONTEXT = {f"key-{i:03d}": "v" * 200 + str(i) for i in range(100)}  # ~21 KiB serialized
# The official SDK refuses to *write* frame lengths that are not multiples of 128 (it
# compares against the AES block size in bits), so 1-byte frames are tested ours -> theirs.
FRAMES = [0, 128, 4096, 1024 * 1024]


def _policy(suite: AlgorithmSuite) -> CommitmentPolicy:
    return (
        CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT
        if suite.committing
        else CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    )


def _plaintext(frame: int) -> bytes:
    return os.urandom(frame + frame // 2 + 7 if frame >= 4096 else 3 * max(frame, 1) + 5)


def _keyrings(kind: str, rsa_key: rsa.RSAPrivateKey) -> tuple[Any, Any]:
    if kind == "aes":
        return sdk.RawAesKeyring(NAMESPACE, NAME, AES_KEY), peer.aes_provider(
            NAMESPACE, NAME, AES_KEY
        )
    return (
        sdk.RawRsaKeyring(NAMESPACE, NAME, RsaPadding.OAEP_SHA256, private_key=rsa_key),
        peer.rsa_provider(NAMESPACE, NAME, rsa_key, RsaPadding.OAEP_SHA256),
    )


def _matrix(frames: list[int]) -> list[Any]:
    # 1 MiB frames for one suite per family (v1 unsigned, v1 signed, v2 signed) keeps the run short
    return [
        pytest.param(suite, frame, id=f"{suite.value:04x}-{frame}")
        for suite in AlgorithmSuite
        for frame in frames
        if frame < 1024 * 1024 or suite.value in (0x0078, 0x0378, 0x0578)
    ]


@pytest.mark.parametrize(("suite", "frame"), _matrix(FRAMES))
@pytest.mark.parametrize("kind", ["aes", "rsa"])
def test_official_to_ours(
    kind: str, suite: AlgorithmSuite, frame: int, rsa_key: rsa.RSAPrivateKey
) -> None:
    ours, theirs = _keyrings(kind, rsa_key)
    plaintext = _plaintext(frame)
    context = {"purpose": "interop", "ünïcode": "välue"}
    message, _ = peer.client(peer.policy_for(suite.value)).encrypt(
        source=plaintext,
        key_provider=theirs,
        algorithm=peer.algorithm(suite.value),
        frame_length=frame,
        encryption_context=context,
    )
    decrypted, header = sdk.decrypt(
        message, keyring=ours, commitment_policy=_policy(suite), encryption_context=context
    )
    assert decrypted == plaintext
    assert header.suite is suite and header.frame_length == frame


@pytest.mark.parametrize(("suite", "frame"), _matrix([0, 1, *FRAMES[1:]]))
@pytest.mark.parametrize("kind", ["aes", "rsa"])
def test_ours_to_official(
    kind: str, suite: AlgorithmSuite, frame: int, rsa_key: rsa.RSAPrivateKey
) -> None:
    ours, theirs = _keyrings(kind, rsa_key)
    plaintext = _plaintext(frame)
    message, header = sdk.encrypt(
        plaintext,
        keyring=ours,
        algorithm_suite=suite,
        frame_length=frame,
        commitment_policy=_policy(suite),
        encryption_context={"a": "b"},
    )
    decrypted, their_header = peer.client(peer.policy_for(suite.value)).decrypt(
        source=message, key_provider=theirs
    )
    assert decrypted == plaintext
    assert their_header.algorithm.algorithm_id == suite.value
    assert their_header.message_id == header.message_id
    assert their_header.encryption_context["a"] == "b"


@pytest.mark.parametrize("context", [{}, LARGE_CONTEXT], ids=["empty", "large"])
@pytest.mark.parametrize("suite_id", [0x0014, 0x0378, 0x0478, 0x0578])
def test_contexts_both_ways(context: dict[str, str], suite_id: int) -> None:
    suite = AlgorithmSuite(suite_id)
    ours, theirs = _keyrings("aes", None)  # type: ignore[arg-type]
    plaintext = os.urandom(10_000)
    client = peer.client(peer.policy_for(suite_id))
    mine, _ = sdk.encrypt(
        plaintext,
        keyring=ours,
        algorithm_suite=suite,
        encryption_context=context,
        commitment_policy=_policy(suite),
    )
    theirs_pt, their_header = client.decrypt(source=mine, key_provider=theirs)
    assert theirs_pt == plaintext
    assert {
        k: v for k, v in their_header.encryption_context.items() if not k.startswith("aws-crypto-")
    } == context
    their_msg, _ = client.encrypt(
        source=plaintext,
        key_provider=theirs,
        algorithm=peer.algorithm(suite_id),
        encryption_context=context,
    )
    ours_pt, header = sdk.decrypt(their_msg, keyring=ours, commitment_policy=_policy(suite))
    assert ours_pt == plaintext
    assert {
        k: v for k, v in header.encryption_context.items() if not k.startswith("aws-crypto-")
    } == context


@pytest.mark.parametrize("pad", list(RsaPadding))
@pytest.mark.parametrize("key_bytes", [16, 24, 32])
def test_every_wrapping_algorithm(
    pad: RsaPadding, key_bytes: int, rsa_key: rsa.RSAPrivateKey
) -> None:
    """Raw AES 128/192/256 and every RSA padding, each direction, in one multi-keyring."""
    aes_key = os.urandom(key_bytes)
    ours = sdk.MultiKeyring(
        generator=sdk.RawAesKeyring(NAMESPACE, "aes", aes_key),
        children=[sdk.RawRsaKeyring(NAMESPACE, "rsa", pad, private_key=rsa_key)],
    )
    message, header = sdk.encrypt(b"secret", keyring=ours)
    assert len(header.encrypted_data_keys) == 2
    client = peer.client()
    assert (
        client.decrypt(source=message, key_provider=peer.aes_provider(NAMESPACE, "aes", aes_key))[0]
        == b"secret"
    )
    assert (
        client.decrypt(
            source=message, key_provider=peer.rsa_provider(NAMESPACE, "rsa", rsa_key, pad)
        )[0]
        == b"secret"
    )
    their_msg, _ = client.encrypt(
        source=b"back", key_provider=peer.rsa_provider(NAMESPACE, "rsa", rsa_key, pad)
    )
    assert (
        sdk.decrypt(
            their_msg, keyring=sdk.RawRsaKeyring(NAMESPACE, "rsa", pad, private_key=rsa_key)
        )[0]
        == b"back"
    )
