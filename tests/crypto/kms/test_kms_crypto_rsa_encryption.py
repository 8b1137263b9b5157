"""RSA Encrypt/Decrypt, plaintext limits, public keys and data key pairs."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from strongroom.crypto.kms import (
    DATA_KEY_PAIR_SPECS,
    KEY_SPECS,
    InvalidCiphertext,
    InvalidKeyUsage,
    KmsValidationError,
    UnsupportedAlgorithm,
    decrypt,
    encrypt,
    generate_data_key_pair,
    generate_key_material,
    max_plaintext_length,
    public_key_der,
)

Material = Callable[[str], bytes]
RSA_SPECS = ["RSA_2048", "RSA_3072", "RSA_4096"]
OAEP = {"RSAES_OAEP_SHA_1": hashes.SHA1, "RSAES_OAEP_SHA_256": hashes.SHA256}
CASES = [(spec, alg) for spec in RSA_SPECS for alg in OAEP]


def oaep(algorithm: str) -> padding.OAEP:
    hash_type = OAEP[algorithm]
    return padding.OAEP(mgf=padding.MGF1(hash_type()), algorithm=hash_type(), label=None)


@functools.cache
def outside_private_key(material: bytes) -> Any:
    return serialization.load_der_private_key(material, password=None)


@pytest.mark.parametrize(
    ("key_spec", "algorithm", "expected"),
    [
        ("RSA_2048", "RSAES_OAEP_SHA_1", 214),
        ("RSA_2048", "RSAES_OAEP_SHA_256", 190),
        ("RSA_3072", "RSAES_OAEP_SHA_1", 342),
        ("RSA_3072", "RSAES_OAEP_SHA_256", 318),
        ("RSA_4096", "RSAES_OAEP_SHA_1", 470),
        ("RSA_4096", "RSAES_OAEP_SHA_256", 446),
        ("SYMMETRIC_DEFAULT", "SYMMETRIC_DEFAULT", 4096),
        ("SM2", "SM2PKE", 1024),
    ],
)
def test_max_plaintext_length_is_the_kms_table(
    key_spec: str, algorithm: str, expected: int
) -> None:
    assert max_plaintext_length(key_spec, algorithm) == expected


@pytest.mark.parametrize(("key_spec", "algorithm"), CASES)
def test_round_trip_at_the_limit(material: Material, key_spec: str, algorithm: str) -> None:
    stored = material(key_spec)
    public = public_key_der(key_spec, stored)
    limit = max_plaintext_length(key_spec, algorithm)
    for plaintext in (b"x", os.urandom(limit)):
        ciphertext = encrypt(key_spec, public, plaintext, algorithm)
        assert len(ciphertext) == KEY_SPECS[key_spec].key_bits // 8
        assert decrypt(key_spec, stored, ciphertext, algorithm) == plaintext
        # Encrypting with the stored private material works the same.
        again = encrypt(key_spec, stored, plaintext, algorithm)
        assert decrypt(key_spec, stored, again, algorithm) == plaintext
    with pytest.raises(KmsValidationError, match="too long") as caught:
        encrypt(key_spec, public, b"\x00" * (limit + 1), algorithm)
    assert caught.value.aws_code == "ValidationException"


@pytest.mark.parametrize(("key_spec", "algorithm"), CASES)
def test_ciphertext_made_outside_decrypts(
    material: Material, key_spec: str, algorithm: str
) -> None:
    """A client encrypting with the GetPublicKey output and a standard toolkit."""
    stored = material(key_spec)
    public: Any = serialization.load_der_public_key(public_key_der(key_spec, stored))
    plaintext = b"made outside Strongroom"
    ciphertext = public.encrypt(plaintext, oaep(algorithm))
    assert decrypt(key_spec, stored, ciphertext, algorithm) == plaintext


@pytest.mark.parametrize(("key_spec", "algorithm"), CASES)
def test_our_ciphertext_decrypts_outside(material: Material, key_spec: str, algorithm: str) -> None:
    stored = material(key_spec)
    ciphertext = encrypt(key_spec, stored, b"made inside", algorithm)
    assert outside_private_key(stored).decrypt(ciphertext, oaep(algorithm)) == b"made inside"


def test_decrypt_failures_are_invalid_ciphertext(material: Material) -> None:
    stored = material("RSA_2048")
    ciphertext = encrypt("RSA_2048", stored, b"secret", "RSAES_OAEP_SHA_256")
    bad = [
        ("RSA_2048", stored, ciphertext, "RSAES_OAEP_SHA_1"),  # other algorithm
        ("RSA_2048", stored, bytes([ciphertext[0] ^ 1]) + ciphertext[1:], "RSAES_OAEP_SHA_256"),
        ("RSA_2048", stored, ciphertext[:-1], "RSAES_OAEP_SHA_256"),
        ("RSA_2048", stored, ciphertext + b"\x00", "RSAES_OAEP_SHA_256"),
        ("RSA_2048", stored, b"", "RSAES_OAEP_SHA_256"),
        ("RSA_2048", generate_key_material("RSA_2048"), ciphertext, "RSAES_OAEP_SHA_256"),
    ]
    messages = set()
    for key_spec, key, blob, algorithm in bad:
        with pytest.raises(InvalidCiphertext) as caught:
            decrypt(key_spec, key, blob, algorithm)
        assert caught.value.aws_code == "InvalidCiphertextException"
        messages.add(caught.value.message)
    # One message for every cause: no padding oracle.
    assert len(messages) == 1


@pytest.mark.parametrize(
    ("key_spec", "algorithm", "error"),
    [
        ("ECC_NIST_P256", "RSAES_OAEP_SHA_256", InvalidKeyUsage),
        ("ML_DSA_44", "RSAES_OAEP_SHA_1", InvalidKeyUsage),
        ("RSA_2048", "SM2PKE", InvalidKeyUsage),
        ("RSA_2048", "SYMMETRIC_DEFAULT", InvalidKeyUsage),
        ("RSA_2048", "RSAES_OAEP_SHA_512", KmsValidationError),
        ("SYMMETRIC_DEFAULT", "SYMMETRIC_DEFAULT", UnsupportedAlgorithm),
        ("SM2", "SM2PKE", UnsupportedAlgorithm),
    ],
)
def test_encryption_refusals(
    material: Material, key_spec: str, algorithm: str, error: type[Exception]
) -> None:
    key = material(key_spec) if KEY_SPECS[key_spec].supported else b""
    with pytest.raises(error):
        encrypt(key_spec, key, b"data", algorithm)
    with pytest.raises(error):
        decrypt(key_spec, key, b"\x00" * 256, algorithm)


@pytest.mark.parametrize(
    "key_spec", [s for s, i in KEY_SPECS.items() if i.supported and i.asymmetric]
)
def test_public_key_is_spki_of_the_private_key(material: Material, key_spec: str) -> None:
    stored = material(key_spec)
    public = public_key_der(key_spec, stored)
    expected = outside_private_key(stored).public_key()
    assert serialization.load_der_public_key(public) == expected
    assert public == expected.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize("key_spec", ["SYMMETRIC_DEFAULT", "HMAC_256"])
def test_symmetric_keys_have_no_public_key(material: Material, key_spec: str) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        public_key_der(key_spec, material(key_spec))


def test_generated_material_sizes(material: Material) -> None:
    assert len(material("SYMMETRIC_DEFAULT")) == 32
    sizes = {"HMAC_224": 28, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64}
    for key_spec, size in sizes.items():
        assert len(material(key_spec)) == size
    assert material("HMAC_256") != generate_key_material("HMAC_256")


SUPPORTED_PAIRS = [s for s in DATA_KEY_PAIR_SPECS if KEY_SPECS[s].supported]


@pytest.mark.parametrize("key_pair_spec", SUPPORTED_PAIRS)
def test_data_key_pairs(key_pair_spec: str) -> None:
    private, public = generate_data_key_pair(key_pair_spec)
    # (RSA validation skipped for speed: the key comes from cryptography's generator.)
    key = serialization.load_der_private_key(
        private, password=None, unsafe_skip_rsa_key_validation=True
    )
    assert serialization.load_der_public_key(public) == key.public_key()
    # The private key is what public_key_der would derive from.
    assert public_key_der(key_pair_spec, private) == public


@pytest.mark.parametrize(
    ("key_pair_spec", "error"),
    [
        ("SM2", UnsupportedAlgorithm),
        ("ML_KEM_512", UnsupportedAlgorithm),
        ("HMAC_256", KmsValidationError),
        ("SYMMETRIC_DEFAULT", KmsValidationError),
        ("ML_DSA_44", KmsValidationError),
    ],
)
def test_data_key_pair_refusals(key_pair_spec: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        generate_data_key_pair(key_pair_spec)
