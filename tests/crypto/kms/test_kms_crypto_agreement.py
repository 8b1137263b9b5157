"""DeriveSharedSecret (ECDH) and Encapsulate/Decapsulate (ML-KEM)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mlkem

from strongroom.crypto.kms import (
    InvalidCiphertext,
    InvalidKeyUsage,
    KmsValidationError,
    UnsupportedAlgorithm,
    decapsulate,
    derive_shared_secret,
    encapsulate,
    generate_key_material,
    public_key_der,
)

Material = Callable[[str], bytes]
CURVES: dict[str, tuple[ec.EllipticCurve, int]] = {
    "ECC_NIST_P256": (ec.SECP256R1(), 32),
    "ECC_NIST_P384": (ec.SECP384R1(), 48),
    "ECC_NIST_P521": (ec.SECP521R1(), 66),
}


def spki(key: Any) -> bytes:
    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


@pytest.mark.parametrize("key_spec", list(CURVES))
def test_both_sides_derive_the_same_secret(material: Material, key_spec: str) -> None:
    curve, size = CURVES[key_spec]
    stored = material(key_spec)
    peer = ec.generate_private_key(curve)
    ours = derive_shared_secret(key_spec, stored, spki(peer.public_key()))
    kms_public: Any = serialization.load_der_public_key(public_key_der(key_spec, stored))
    theirs = peer.exchange(ec.ECDH(), kms_public)
    assert ours == theirs
    assert len(ours) == size  # the raw x-coordinate, no KDF


@pytest.mark.parametrize("key_spec", list(CURVES))
def test_two_kms_keys_agree(material: Material, key_spec: str) -> None:
    first, second = material(key_spec), generate_key_material(key_spec)
    a = derive_shared_secret(key_spec, first, public_key_der(key_spec, second), "ECDH")
    b = derive_shared_secret(key_spec, second, public_key_der(key_spec, first), "ECDH")
    assert a == b
    other = generate_key_material(key_spec)
    assert derive_shared_secret(key_spec, first, public_key_der(key_spec, other)) != a


def test_peer_key_must_be_spki_on_the_same_curve(material: Material) -> None:
    stored = material("ECC_NIST_P256")
    p384 = ec.generate_private_key(ec.SECP384R1())
    k1 = ec.generate_private_key(ec.SECP256K1())
    edwards = ed25519.Ed25519PrivateKey.generate()
    p256 = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = p256.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    raw_point = p256.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    for peer in (
        spki(p384.public_key()),
        spki(k1.public_key()),
        spki(edwards.public_key()),
        pkcs8,
        raw_point,
        b"",
        os.urandom(91),
    ):
        with pytest.raises(KmsValidationError) as caught:
            derive_shared_secret("ECC_NIST_P256", stored, peer)
        assert caught.value.aws_code == "ValidationException"


@pytest.mark.parametrize(
    ("key_spec", "algorithm", "error"),
    [
        ("ECC_SECG_P256K1", "ECDH", InvalidKeyUsage),
        ("ECC_NIST_EDWARDS25519", "ECDH", InvalidKeyUsage),
        ("RSA_2048", "ECDH", InvalidKeyUsage),
        ("HMAC_256", "ECDH", InvalidKeyUsage),
        ("ECC_NIST_P256", "X25519", KmsValidationError),
        ("SM2", "ECDH", UnsupportedAlgorithm),
    ],
)
def test_agreement_refusals(key_spec: str, algorithm: str, error: type[Exception]) -> None:
    peer = spki(ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(error):
        derive_shared_secret(key_spec, b"", peer, algorithm)


@pytest.mark.parametrize(("key_spec", "size"), [("ML_KEM_768", 1088), ("ML_KEM_1024", 1568)])
def test_kem_round_trip(material: Material, key_spec: str, size: int) -> None:
    stored = material(key_spec)
    public = public_key_der(key_spec, stored)
    secret, ciphertext = encapsulate(key_spec, public)
    assert (len(secret), len(ciphertext)) == (32, size)
    assert decapsulate(key_spec, stored, ciphertext) == secret
    # A client encapsulating with the exported public key and its own toolkit.
    outside: Any = serialization.load_der_public_key(public)
    assert isinstance(outside, mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey)
    their_secret, their_ciphertext = outside.encapsulate()
    assert decapsulate(key_spec, stored, their_ciphertext, "ML_KEM") == their_secret
    # Implicit rejection: an altered ciphertext gives another 32-byte secret.
    altered = bytes([ciphertext[0] ^ 1]) + ciphertext[1:]
    rejected = decapsulate(key_spec, stored, altered)
    assert len(rejected) == 32 and rejected != secret
    for wrong in (ciphertext[:-1], ciphertext + b"\x00", b""):
        with pytest.raises(InvalidCiphertext) as caught:
            decapsulate(key_spec, stored, wrong)
        assert caught.value.aws_code == "InvalidCiphertextException"


@pytest.mark.parametrize(
    ("key_spec", "algorithm", "error"),
    [
        ("ML_KEM_512", "ML_KEM", UnsupportedAlgorithm),
        ("ML_DSA_44", "ML_KEM", InvalidKeyUsage),
        ("RSA_2048", "ML_KEM", InvalidKeyUsage),
        ("ML_KEM_768", "KYBER", KmsValidationError),
    ],
)
def test_kem_refusals(key_spec: str, algorithm: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        encapsulate(key_spec, b"", algorithm)
    with pytest.raises(error):
        decapsulate(key_spec, b"", b"\x00" * 1088, algorithm)
