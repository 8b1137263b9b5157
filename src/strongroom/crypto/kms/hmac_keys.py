"""GenerateMac and VerifyMac: standard HMAC (RFC 2104) with the key spec's hash.

An HMAC key has exactly one MAC algorithm, the one its spec names
(HMAC_256 keys compute HMAC_SHA_256 only); any other algorithm is
InvalidKeyUsageException, as in KMS. Tags are the full digest, never
truncated. Verification compares in constant time (``cryptography``'s
``HMAC.verify``), so a wrong tag reveals nothing about the right one.

Key sizes: generated keys have the spec's size (HMAC_224: 28 bytes, ...,
HMAC_512: 64 bytes). Imported material may be longer, within the ranges in
:data:`HMAC_IMPORT_BYTES` (the KMS developer guide's requirements for
imported HMAC key material: from the spec's size up to the hash's block
size, 64 bytes for SHA-224/256 and 128 for SHA-384/512).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac

from strongroom.crypto.kms.errors import InvalidKeyUsage, KmsValidationError
from strongroom.crypto.kms.specs import spec_info

__all__ = [
    "HMAC_IMPORT_BYTES",
    "HMAC_KEY_BYTES",
    "MAC_ALGORITHMS",
    "generate_mac",
    "verify_mac",
]

HMAC_KEY_BYTES = {"HMAC_224": 28, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64}
# Inclusive (min, max) lengths of imported HMAC key material.
HMAC_IMPORT_BYTES = {
    "HMAC_224": (28, 64),
    "HMAC_256": (32, 64),
    "HMAC_384": (48, 128),
    "HMAC_512": (64, 128),
}
MAC_ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {
    "HMAC_SHA_224": hashes.SHA224,
    "HMAC_SHA_256": hashes.SHA256,
    "HMAC_SHA_384": hashes.SHA384,
    "HMAC_SHA_512": hashes.SHA512,
}


def _mac(key_spec: str, material: bytes, message: bytes, algorithm: str) -> hmac.HMAC:
    """An HMAC context over ``message``, after KMS's request checks."""
    info = spec_info(key_spec)
    if algorithm not in MAC_ALGORITHMS:
        raise KmsValidationError(
            f"1 validation error detected: Value '{algorithm}' at 'macAlgorithm' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{', '.join(MAC_ALGORITHMS)}]"
        )
    if info.family != "HMAC" or algorithm not in info.mac_algorithms:
        raise InvalidKeyUsage(
            f"MAC algorithm {algorithm} is not compatible with KeySpec {key_spec}."
        )
    # Material lengths are enforced where material is born (generation and
    # import); HMAC itself takes a key of any length, which the RFC 4231
    # vectors (4- to 131-byte keys) rely on.
    context = hmac.HMAC(material, MAC_ALGORITHMS[algorithm]())
    context.update(message)
    return context


def generate_mac(key_spec: str, material: bytes, message: bytes, algorithm: str) -> bytes:
    """The HMAC tag KMS ``GenerateMac`` returns."""
    return _mac(key_spec, material, message, algorithm).finalize()


def verify_mac(key_spec: str, material: bytes, message: bytes, algorithm: str, mac: bytes) -> bool:
    """Whether ``mac`` is the tag of ``message`` (constant-time comparison)."""
    context = _mac(key_spec, material, message, algorithm)
    try:
        context.verify(mac)
    except InvalidSignature:
        return False
    return True
