"""GenerateMac/VerifyMac: RFC 4231 vectors and KMS's spec/algorithm rules."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from typing import Any

import pytest

from strongroom.crypto.kms import (
    InvalidKeyUsage,
    KmsValidationError,
    generate_mac,
    verify_mac,
)

SPEC_OF = {
    "HMAC_SHA_224": "HMAC_224",
    "HMAC_SHA_256": "HMAC_256",
    "HMAC_SHA_384": "HMAC_384",
    "HMAC_SHA_512": "HMAC_512",
}
STDLIB = {
    "HMAC_SHA_224": hashlib.sha224,
    "HMAC_SHA_256": hashlib.sha256,
    "HMAC_SHA_384": hashlib.sha384,
    "HMAC_SHA_512": hashlib.sha512,
}


@pytest.mark.parametrize("algorithm", list(SPEC_OF))
def test_rfc4231_vectors(vectors: Callable[[str], Any], algorithm: str) -> None:
    data = vectors("rfc4231_hmac_sha2.json")
    assert "RFC 4231" in data["source"]
    for case in data["cases"]:
        key, message = bytes.fromhex(case["key_hex"]), bytes.fromhex(case["data_hex"])
        expected = bytes.fromhex(case[algorithm])
        tag = generate_mac(SPEC_OF[algorithm], key, message, algorithm)
        if "truncate_bytes" in case:
            assert tag[: case["truncate_bytes"]] == expected, case["case"]
            # KMS never truncates: the truncated tag does not verify.
            assert not verify_mac(SPEC_OF[algorithm], key, message, algorithm, expected)
        else:
            assert tag == expected, case["case"]
            assert verify_mac(SPEC_OF[algorithm], key, message, algorithm, expected)


@pytest.mark.parametrize("algorithm", list(SPEC_OF))
def test_matches_an_independent_hmac(material: Callable[[str], bytes], algorithm: str) -> None:
    key_spec = SPEC_OF[algorithm]
    key = material(key_spec)
    message = os.urandom(100)
    tag = generate_mac(key_spec, key, message, algorithm)
    assert tag == hmac.new(key, message, STDLIB[algorithm]).digest()
    assert verify_mac(key_spec, key, message, algorithm, tag)
    assert not verify_mac(key_spec, key, message + b"x", algorithm, tag)
    assert not verify_mac(key_spec, key, message, algorithm, bytes([tag[0] ^ 1]) + tag[1:])
    assert not verify_mac(key_spec, key, message, algorithm, tag[:-1])
    assert not verify_mac(key_spec, key, message, algorithm, b"")
    assert not verify_mac(key_spec, os.urandom(len(key)), message, algorithm, tag)


def test_empty_message(material: Callable[[str], bytes]) -> None:
    key = material("HMAC_256")
    assert (
        generate_mac("HMAC_256", key, b"", "HMAC_SHA_256") == hmac.new(key, b"", "sha256").digest()
    )


@pytest.mark.parametrize(
    ("key_spec", "algorithm"),
    [
        ("HMAC_256", "HMAC_SHA_224"),
        ("HMAC_224", "HMAC_SHA_256"),
        ("HMAC_512", "HMAC_SHA_384"),
        ("SYMMETRIC_DEFAULT", "HMAC_SHA_256"),
        ("RSA_2048", "HMAC_SHA_256"),
    ],
)
def test_algorithm_must_be_the_specs(key_spec: str, algorithm: str) -> None:
    with pytest.raises(InvalidKeyUsage) as caught:
        generate_mac(key_spec, b"k" * 32, b"m", algorithm)
    assert caught.value.aws_code == "InvalidKeyUsageException"
    with pytest.raises(InvalidKeyUsage):
        verify_mac(key_spec, b"k" * 32, b"m", algorithm, b"t" * 32)


def test_unknown_algorithm_and_spec() -> None:
    with pytest.raises(KmsValidationError, match="macAlgorithm"):
        generate_mac("HMAC_256", b"k" * 32, b"m", "HMAC_SHA_1")
    with pytest.raises(KmsValidationError, match="keySpec"):
        generate_mac("HMAC_128", b"k" * 32, b"m", "HMAC_SHA_256")
