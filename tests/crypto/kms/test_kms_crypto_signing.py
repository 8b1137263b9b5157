"""Sign and Verify for every key spec and signing algorithm.

Our signatures are checked by an independent verifier (``cryptography``
driven directly from ``public_key_der`` output with the parameters AWS
documents), signatures made independently verify with our ``verify``, and
deterministic schemes (PKCS#1 v1.5, Ed25519) are compared byte for byte.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from strongroom.crypto.kms import (
    KEY_SPECS,
    InvalidKeyUsage,
    KmsValidationError,
    UnsupportedAlgorithm,
    public_key_der,
    sign,
    verify,
)

Material = Callable[[str], bytes]
HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
PYHASH = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}

SIGNING = [
    (spec, alg)
    for spec, info in KEY_SPECS.items()
    if info.supported and "SIGN_VERIFY" in info.key_usages
    for alg in info.signing_algorithms
    if alg != "ED25519_PH_SHA_512"
]
HASHED = [(spec, alg) for spec, alg in SIGNING if alg.startswith(("RSASSA", "ECDSA"))]
MESSAGE = b"Strongroom signs this message." * 3


def bits(alg: str) -> str:
    return alg.rsplit("_", 1)[1]


def independent_verify(
    public_der: bytes, alg: str, message: bytes, signature: bytes, *, digest: bool = False
) -> None:
    """Verify as an outside party would, from the published parameters only."""
    key: Any = serialization.load_der_public_key(public_der)
    if alg.startswith(("RSASSA", "ECDSA")):
        hash_algorithm = HASHES[bits(alg)]()
        chosen: Any = Prehashed(hash_algorithm) if digest else hash_algorithm
        if alg.startswith("RSASSA_PSS"):
            assert isinstance(key, rsa.RSAPublicKey)
            pss = padding.PSS(padding.MGF1(hash_algorithm), salt_length=hash_algorithm.digest_size)
            key.verify(signature, message, pss, chosen)
        elif alg.startswith("RSASSA_PKCS1"):
            assert isinstance(key, rsa.RSAPublicKey)
            key.verify(signature, message, padding.PKCS1v15(), chosen)
        else:
            assert isinstance(key, ec.EllipticCurvePublicKey)
            key.verify(signature, message, ec.ECDSA(chosen))
    elif alg == "ED25519_SHA_512":
        assert isinstance(key, ed25519.Ed25519PublicKey)
        key.verify(signature, message)
    else:
        key.verify(signature, message)


@functools.cache
def independent_private_key(material: bytes) -> Any:
    # Cached because loading validates RSA keys, which is slow for RSA_4096.
    return serialization.load_der_private_key(material, password=None)


def independent_sign(material: bytes, alg: str, message: bytes) -> bytes:
    key = independent_private_key(material)
    if alg.startswith(("RSASSA", "ECDSA")):
        hash_algorithm = HASHES[bits(alg)]()
        if alg.startswith("RSASSA_PSS"):
            pss = padding.PSS(padding.MGF1(hash_algorithm), salt_length=hash_algorithm.digest_size)
            return bytes(key.sign(message, pss, hash_algorithm))
        if alg.startswith("RSASSA_PKCS1"):
            return bytes(key.sign(message, padding.PKCS1v15(), hash_algorithm))
        return bytes(key.sign(message, ec.ECDSA(hash_algorithm)))
    return bytes(key.sign(message))


@pytest.mark.parametrize(("key_spec", "algorithm"), SIGNING)
def test_our_signature_verifies_independently(
    material: Material, key_spec: str, algorithm: str
) -> None:
    stored = material(key_spec)
    signature = sign(key_spec, stored, MESSAGE, "RAW", algorithm)
    independent_verify(public_key_der(key_spec, stored), algorithm, MESSAGE, signature)
    with pytest.raises(InvalidSignature):
        independent_verify(public_key_der(key_spec, stored), algorithm, MESSAGE + b"!", signature)


@pytest.mark.parametrize(("key_spec", "algorithm"), SIGNING)
def test_independent_signature_verifies_with_ours(
    material: Material, key_spec: str, algorithm: str
) -> None:
    stored = material(key_spec)
    signature = independent_sign(stored, algorithm, MESSAGE)
    public = public_key_der(key_spec, stored)
    assert verify(key_spec, public, MESSAGE, "RAW", algorithm, signature)
    # The stored private material serves as well as the public key.
    assert verify(key_spec, stored, MESSAGE, "RAW", algorithm, signature)


@pytest.mark.parametrize(("key_spec", "algorithm"), SIGNING)
def test_tampering_fails_verification(material: Material, key_spec: str, algorithm: str) -> None:
    stored = material(key_spec)
    signature = sign(key_spec, stored, MESSAGE, "RAW", algorithm)
    flipped = bytes([signature[0] ^ 0x01]) + signature[1:]
    last_flipped = signature[:-1] + bytes([signature[-1] ^ 0x80])
    assert verify(key_spec, stored, MESSAGE, "RAW", algorithm, signature)
    assert not verify(key_spec, stored, MESSAGE[:-1], "RAW", algorithm, signature)
    assert not verify(key_spec, stored, MESSAGE, "RAW", algorithm, flipped)
    assert not verify(key_spec, stored, MESSAGE, "RAW", algorithm, last_flipped)
    assert not verify(key_spec, stored, MESSAGE, "RAW", algorithm, b"")
    assert not verify(key_spec, stored, MESSAGE, "RAW", algorithm, b"\x30\x00")


@pytest.mark.parametrize(("key_spec", "algorithm"), HASHED)
def test_digest_and_raw_are_equivalent(material: Material, key_spec: str, algorithm: str) -> None:
    stored = material(key_spec)
    digest = PYHASH[bits(algorithm)](MESSAGE).digest()
    from_raw = sign(key_spec, stored, MESSAGE, "RAW", algorithm)
    from_digest = sign(key_spec, stored, digest, "DIGEST", algorithm)
    assert verify(key_spec, stored, digest, "DIGEST", algorithm, from_raw)
    assert verify(key_spec, stored, MESSAGE, "RAW", algorithm, from_digest)
    independent_verify(public_key_der(key_spec, stored), algorithm, MESSAGE, from_digest)
    independent_verify(public_key_der(key_spec, stored), algorithm, digest, from_raw, digest=True)
    # A digest sent as RAW is hashed again: a different signed value.
    assert not verify(key_spec, stored, digest, "RAW", algorithm, from_raw)


@pytest.mark.parametrize(("key_spec", "algorithm"), HASHED)
def test_wrong_length_digest_is_rejected(material: Material, key_spec: str, algorithm: str) -> None:
    stored = material(key_spec)
    size = int(bits(algorithm)) // 8
    for length in (0, size - 1, size + 1, 20):
        with pytest.raises(ValueError, match="Digest is invalid length") as caught:
            sign(key_spec, stored, b"\x01" * length, "DIGEST", algorithm)
        assert caught.value.aws_code == "ValidationException"  # type: ignore[attr-defined]
        with pytest.raises(KmsValidationError):
            verify(key_spec, stored, b"\x01" * length, "DIGEST", algorithm, b"x" * 64)


@pytest.mark.parametrize("key_spec", ["RSA_2048", "RSA_3072", "RSA_4096"])
@pytest.mark.parametrize("size", ["256", "384", "512"])
def test_pkcs1_v1_5_known_answer(material: Material, key_spec: str, size: str) -> None:
    """PKCS#1 v1.5 is deterministic: our bytes equal cryptography's, RAW and DIGEST."""
    stored = material(key_spec)
    algorithm = f"RSASSA_PKCS1_V1_5_SHA_{size}"
    expected = independent_sign(stored, algorithm, MESSAGE)
    assert sign(key_spec, stored, MESSAGE, "RAW", algorithm) == expected
    digest = PYHASH[size](MESSAGE).digest()
    assert sign(key_spec, stored, digest, "DIGEST", algorithm) == expected
    assert len(expected) == KEY_SPECS[key_spec].key_bits // 8


def test_ed25519_rfc8032_vectors(vectors: Callable[[str], Any]) -> None:
    for case in vectors("rfc8032_ed25519.json")["cases"]:
        key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(case["secret_key_hex"]))
        stored = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        message = bytes.fromhex(case["message_hex"])
        spec = "ECC_NIST_EDWARDS25519"
        signature = sign(spec, stored, message, "RAW", "ED25519_SHA_512")
        assert signature.hex() == case["signature_hex"], case["name"]
        public = public_key_der(spec, stored)
        assert public[-32:].hex() == case["public_key_hex"]
        assert verify(spec, public, message, "RAW", "ED25519_SHA_512", signature)


def test_ecdsa_signatures_are_der(material: Material) -> None:
    for key_spec, algorithm in HASHED:
        if algorithm.startswith("ECDSA"):
            signature = sign(key_spec, material(key_spec), MESSAGE, "RAW", algorithm)
            r, s = decode_dss_signature(signature)
            assert r > 0 and s > 0


@pytest.mark.parametrize("key_spec", ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"])
def test_mldsa_external_mu_matches_raw(material: Material, key_spec: str) -> None:
    stored = material(key_spec)
    public = public_key_der(key_spec, stored)
    public_key: Any = serialization.load_der_public_key(public)
    hasher = mldsa.MLDSAMuHasher(public_key)
    hasher.update(MESSAGE)
    mu = hasher.finalize()
    from_mu = sign(key_spec, stored, mu, "EXTERNAL_MU", "ML_DSA_SHAKE_256")
    from_raw = sign(key_spec, stored, MESSAGE, "RAW", "ML_DSA_SHAKE_256")
    # Both are ordinary FIPS 204 signatures of the message (empty context).
    public_key.verify(from_mu, MESSAGE)
    public_key.verify_mu(from_raw, mu)
    assert verify(key_spec, public, MESSAGE, "RAW", "ML_DSA_SHAKE_256", from_mu)
    assert verify(key_spec, public, mu, "EXTERNAL_MU", "ML_DSA_SHAKE_256", from_raw)
    assert not verify(key_spec, public, bytes(64), "EXTERNAL_MU", "ML_DSA_SHAKE_256", from_raw)
    with pytest.raises(KmsValidationError, match="64 bytes"):
        sign(key_spec, stored, mu[:32], "EXTERNAL_MU", "ML_DSA_SHAKE_256")


@pytest.mark.parametrize(
    ("key_spec", "algorithm", "message_type", "length"),
    [
        ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", "DIGEST", 64),
        ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", "RAW", 64),
        ("ML_DSA_44", "ML_DSA_SHAKE_256", "DIGEST", 64),
        ("ECC_NIST_P256", "ECDSA_SHA_256", "EXTERNAL_MU", 64),
        ("RSA_2048", "RSASSA_PSS_SHA_512", "EXTERNAL_MU", 64),
        ("RSA_2048", "RSASSA_PSS_SHA_256", "HASHED", 32),
    ],
)
def test_message_type_must_suit_the_algorithm(
    material: Material, key_spec: str, algorithm: str, message_type: str, length: int
) -> None:
    with pytest.raises(KmsValidationError):
        sign(key_spec, material(key_spec), b"\x02" * length, message_type, algorithm)


@pytest.mark.parametrize(
    ("key_spec", "algorithm"),
    [
        ("ECC_NIST_P256", "ECDSA_SHA_384"),
        ("ECC_NIST_P384", "ECDSA_SHA_256"),
        ("ECC_SECG_P256K1", "ECDSA_SHA_512"),
        ("ECC_NIST_P256", "RSASSA_PSS_SHA_256"),
        ("RSA_2048", "ECDSA_SHA_256"),
        ("RSA_2048", "ML_DSA_SHAKE_256"),
        ("ML_DSA_65", "ED25519_SHA_512"),
        ("HMAC_256", "RSASSA_PSS_SHA_256"),
    ],
)
def test_algorithm_of_another_spec_is_invalid_key_usage(
    material: Material, key_spec: str, algorithm: str
) -> None:
    with pytest.raises(InvalidKeyUsage) as caught:
        sign(key_spec, material(key_spec), MESSAGE, "RAW", algorithm)
    assert caught.value.aws_code == "InvalidKeyUsageException"


def test_unknown_algorithm_and_message_type(material: Material) -> None:
    stored = material("ECC_NIST_P256")
    with pytest.raises(KmsValidationError, match="signingAlgorithm"):
        sign("ECC_NIST_P256", stored, MESSAGE, "RAW", "ECDSA_SHA_1")
    with pytest.raises(KmsValidationError, match="messageType"):
        sign("ECC_NIST_P256", stored, MESSAGE, "PREHASHED", "ECDSA_SHA_256")


def test_ed25519ph_is_documented_unsupported(material: Material) -> None:
    stored = material("ECC_NIST_EDWARDS25519")
    digest = hashlib.sha512(MESSAGE).digest()
    for call in (
        lambda: sign("ECC_NIST_EDWARDS25519", stored, digest, "DIGEST", "ED25519_PH_SHA_512"),
        lambda: verify(
            "ECC_NIST_EDWARDS25519", stored, digest, "DIGEST", "ED25519_PH_SHA_512", b"x" * 64
        ),
    ):
        with pytest.raises(UnsupportedAlgorithm, match="Ed25519ph") as caught:
            call()
        assert caught.value.aws_code == "UnsupportedOperationException"
    # The wrong digest length is still a validation error first, as in KMS.
    with pytest.raises(KmsValidationError):
        sign("ECC_NIST_EDWARDS25519", stored, digest[:32], "DIGEST", "ED25519_PH_SHA_512")


def test_sm2_is_unsupported() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        sign("SM2", b"", MESSAGE, "RAW", "SM2DSA")


def test_material_of_another_spec_is_refused(material: Material) -> None:
    with pytest.raises(KmsValidationError):
        sign("ECC_NIST_P384", material("ECC_NIST_P256"), MESSAGE, "RAW", "ECDSA_SHA_384")
    with pytest.raises(KmsValidationError):
        sign("RSA_3072", material("RSA_2048"), MESSAGE, "RAW", "RSASSA_PSS_SHA_256")
    with pytest.raises(KmsValidationError):
        verify(
            "ECC_NIST_P256",
            public_key_der("ECC_SECG_P256K1", material("ECC_SECG_P256K1")),
            MESSAGE,
            "RAW",
            "ECDSA_SHA_256",
            b"sig",
        )
    with pytest.raises(KmsValidationError):
        sign("ECC_NIST_P256", b"not a key", MESSAGE, "RAW", "ECDSA_SHA_256")
