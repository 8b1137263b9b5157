"""Asymmetric key objects: generate, serialize, load, and check against a spec.

Key material at rest is a PKCS#8 DER private key (unencrypted: the barrier
seals every stored value); public keys leave as X.509 SubjectPublicKeyInfo
DER, which is what GetPublicKey returns. Loading checks that the key really
is of the spec it is used as (an RSA_2048 key is a 2048-bit RSA key, an
ECC_NIST_P256 key lies on P-256), so a mislabelled key fails loudly instead of
producing signatures of the wrong kind.

Parsing a private key is the expensive part of a signature, so parsed keys are kept in a small LRU cache keyed by the
spec and the exact bytes. :func:`clear_cache` empties it; the service calls
it when key material is deleted so no parsed copy outlives it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, mlkem, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from strongroom.crypto.kms.errors import KmsValidationError
from strongroom.crypto.kms.specs import require_supported

__all__ = [
    "EC_CURVES",
    "RSA_BITS",
    "clear_cache",
    "generate_private_key",
    "load_private",
    "load_public",
    "private_pkcs8",
    "public_spki",
    "spec_of_private_key",
]

RSA_BITS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
EC_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "ECC_NIST_P256": ec.SECP256R1,
    "ECC_NIST_P384": ec.SECP384R1,
    "ECC_NIST_P521": ec.SECP521R1,
    "ECC_SECG_P256K1": ec.SECP256K1,
}
_ML_GENERATORS: dict[str, Callable[[], PrivateKeyTypes]] = {
    "ML_DSA_44": mldsa.MLDSA44PrivateKey.generate,
    "ML_DSA_65": mldsa.MLDSA65PrivateKey.generate,
    "ML_DSA_87": mldsa.MLDSA87PrivateKey.generate,
    "ML_KEM_768": mlkem.MLKEM768PrivateKey.generate,
    "ML_KEM_1024": mlkem.MLKEM1024PrivateKey.generate,
}
# Public exponent 65537: what AWS and every mainstream toolkit use.
_RSA_EXPONENT = 65537


def generate_private_key(key_spec: str) -> PrivateKeyTypes:
    """A fresh private key of an asymmetric spec."""
    require_supported(key_spec)
    if key_spec in RSA_BITS:
        return rsa.generate_private_key(_RSA_EXPONENT, RSA_BITS[key_spec])
    if key_spec in EC_CURVES:
        return ec.generate_private_key(EC_CURVES[key_spec]())
    if key_spec == "ECC_NIST_EDWARDS25519":
        return ed25519.Ed25519PrivateKey.generate()
    if key_spec in _ML_GENERATORS:
        return _ML_GENERATORS[key_spec]()
    raise KmsValidationError(f"KeySpec {key_spec} is not an asymmetric key spec.")


def private_pkcs8(key: PrivateKeyTypes) -> bytes:
    """PKCS#8 DER, unencrypted. ML-DSA/ML-KEM keys serialize as their seed form."""
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_spki(key: PublicKeyTypes) -> bytes:
    """X.509 SubjectPublicKeyInfo DER (EC points uncompressed, named curves)."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spec_of_private_key(key: PrivateKeyTypes) -> str | None:
    """The KMS spec a private key belongs to, or None if it fits none."""
    return _spec_of(key)


def _spec_of(key: PrivateKeyTypes | PublicKeyTypes) -> str | None:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        for spec, bits in RSA_BITS.items():
            if key.key_size == bits:
                return spec
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        for spec, curve in EC_CURVES.items():
            if key.curve.name == curve().name:
                return spec
        return None
    return _spec_by_type(key)


def _spec_by_type(key: object) -> str | None:
    table: tuple[tuple[str, tuple[type, ...]], ...] = (
        ("ECC_NIST_EDWARDS25519", (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)),
        ("ML_DSA_44", (mldsa.MLDSA44PrivateKey, mldsa.MLDSA44PublicKey)),
        ("ML_DSA_65", (mldsa.MLDSA65PrivateKey, mldsa.MLDSA65PublicKey)),
        ("ML_DSA_87", (mldsa.MLDSA87PrivateKey, mldsa.MLDSA87PublicKey)),
        ("ML_KEM_768", (mlkem.MLKEM768PrivateKey, mlkem.MLKEM768PublicKey)),
        ("ML_KEM_1024", (mlkem.MLKEM1024PrivateKey, mlkem.MLKEM1024PublicKey)),
    )
    for spec, types in table:
        if isinstance(key, types):
            return spec
    return None


def _mismatch(key_spec: str, what: str) -> KmsValidationError:
    return KmsValidationError(f"The {what} is not a valid {key_spec} key.")


@functools.lru_cache(maxsize=256)
def load_private(key_spec: str, material: bytes) -> PrivateKeyTypes:
    """Parse stored PKCS#8 material, checking it is a key of ``key_spec``."""
    require_supported(key_spec)
    try:
        # The RSA consistency check (seconds of primality testing for 4096-bit
        # keys) is skipped: stored material was generated by us or fully
        # validated on import, and the barrier authenticates it at rest.
        key = serialization.load_der_private_key(
            material, password=None, unsafe_skip_rsa_key_validation=True
        )
    except (ValueError, TypeError) as exc:
        raise _mismatch(key_spec, "private key material") from exc
    if _spec_of(key) != key_spec:
        raise _mismatch(key_spec, "private key material")
    return key


@functools.lru_cache(maxsize=256)
def load_public(key_spec: str, der: bytes) -> PublicKeyTypes:
    """A public key of ``key_spec`` from SPKI DER, or derived from PKCS#8 material.

    Accepting either lets the service pass whatever it holds (the stored
    private material, or a public key it exported earlier).
    """
    require_supported(key_spec)
    try:
        key: PublicKeyTypes = serialization.load_der_public_key(der)
    except (ValueError, TypeError):
        try:
            key = load_private(key_spec, der).public_key()
        except KmsValidationError as exc:
            raise _mismatch(key_spec, "public key") from exc
    if _spec_of(key) != key_spec:
        raise _mismatch(key_spec, "public key")
    return key


def clear_cache() -> None:
    """Forget every parsed key (call after key material is destroyed)."""
    load_private.cache_clear()
    load_public.cache_clear()
