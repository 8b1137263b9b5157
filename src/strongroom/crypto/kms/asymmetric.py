"""Key material generation, public keys, and RSA encryption for KMS keys.

Formats (what the KMS service stores and returns):

* SYMMETRIC_DEFAULT: 32 random bytes (the service's own AES-256-GCM format
  uses them; accepted here so one generator serves every spec).
* HMAC_224/256/384/512: random bytes of 28/32/48/64 (the key spec's size).
* Every asymmetric spec: the private key as unencrypted PKCS#8 DER (the
  barrier seals it at rest); ML-DSA and ML-KEM keys in their 32/64-byte seed
  form inside PKCS#8, which is what ``cryptography`` emits.
* Public keys: X.509 SubjectPublicKeyInfo DER, as GetPublicKey returns.

RSA encryption is RSAES-OAEP with the same hash for OAEP and MGF1 and an
empty label (RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256), so ciphertexts made
outside with the public key and any standard toolkit decrypt here.

``sign`` and ``verify`` live in :mod:`signing` and are re-exported here, so
this module is the one place the service needs for asymmetric keys.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from strongroom.crypto.kms.errors import (
    InvalidCiphertext,
    InvalidKeyUsage,
    KmsValidationError,
    UnsupportedAlgorithm,
)
from strongroom.crypto.kms.hmac_keys import HMAC_KEY_BYTES
from strongroom.crypto.kms.keys import (
    generate_private_key,
    load_private,
    load_public,
    private_pkcs8,
    public_spki,
)
from strongroom.crypto.kms.signing import sign, verify
from strongroom.crypto.kms.specs import DATA_KEY_PAIR_SPECS, require_supported, spec_info

__all__ = [
    "ENCRYPTION_ALGORITHMS",
    "SYMMETRIC_KEY_BYTES",
    "decrypt",
    "encrypt",
    "generate_data_key_pair",
    "generate_key_material",
    "max_plaintext_length",
    "public_key_der",
    "sign",
    "verify",
]

SYMMETRIC_KEY_BYTES = 32
# The model's EncryptionAlgorithmSpec enum.
ENCRYPTION_ALGORITHMS = ("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE")
_OAEP_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RSAES_OAEP_SHA_1": hashes.SHA1,
    "RSAES_OAEP_SHA_256": hashes.SHA256,
}
# KMS limits: symmetric Encrypt takes up to 4096 bytes; SM2PKE up to 1024.
_SYMMETRIC_MAX_PLAINTEXT = 4096
_SM2PKE_MAX_PLAINTEXT = 1024
_DECRYPT_FAILED = "The ciphertext could not be decrypted with this key and encryption algorithm."


def generate_key_material(key_spec: str) -> bytes:
    """New key material for a key of ``key_spec`` (format in the module docstring)."""
    info = require_supported(key_spec)
    if info.family == "SYMMETRIC":
        return os.urandom(SYMMETRIC_KEY_BYTES)
    if info.family == "HMAC":
        return os.urandom(HMAC_KEY_BYTES[key_spec])
    return private_pkcs8(generate_private_key(key_spec))


def public_key_der(key_spec: str, material: bytes) -> bytes:
    """The SPKI DER public key of stored asymmetric material (GetPublicKey)."""
    info = require_supported(key_spec)
    if not info.asymmetric:
        raise UnsupportedAlgorithm(
            f"KeySpec {key_spec} is not asymmetric: it has no public key to return."
        )
    return public_spki(load_private(key_spec, material).public_key())


def _oaep(key_spec: str, algorithm: str) -> tuple[padding.OAEP, int]:
    """OAEP padding for an RSA spec and the spec's maximum plaintext length."""
    info = require_supported(key_spec)
    if algorithm not in ENCRYPTION_ALGORITHMS:
        raise KmsValidationError(
            f"1 validation error detected: Value '{algorithm}' at 'encryptionAlgorithm' failed "
            f"to satisfy constraint: Member must satisfy enum value set: [{', '.join(ENCRYPTION_ALGORITHMS)}]"
        )
    if info.family == "SYMMETRIC":
        raise UnsupportedAlgorithm(
            "SYMMETRIC_DEFAULT encryption is the KMS service's own ciphertext format, "
            "not part of the asymmetric library."
        )
    if info.family != "RSA" or algorithm not in _OAEP_HASHES:
        raise InvalidKeyUsage(
            f"Encryption algorithm {algorithm} is not compatible with KeySpec {key_spec}."
        )
    hash_algorithm = _OAEP_HASHES[algorithm]()
    oaep = padding.OAEP(mgf=padding.MGF1(hash_algorithm), algorithm=hash_algorithm, label=None)
    return oaep, info.key_bits // 8 - 2 * hash_algorithm.digest_size - 2


def max_plaintext_length(key_spec: str, algorithm: str) -> int:
    """Largest plaintext KMS ``Encrypt`` accepts for the spec and algorithm.

    RSA: ``modulus_bytes - 2 * hash_bytes - 2`` (the KMS table: RSA_2048 is 214
    bytes with SHA-1 and 190 with SHA-256). Symmetric keys take 4096 bytes,
    SM2PKE 1024.
    """
    info = spec_info(key_spec)
    if info.family == "SYMMETRIC" and algorithm == "SYMMETRIC_DEFAULT":
        return _SYMMETRIC_MAX_PLAINTEXT
    if info.family == "SM2" and algorithm == "SM2PKE":
        return _SM2PKE_MAX_PLAINTEXT
    return _oaep(key_spec, algorithm)[1]


def encrypt(key_spec: str, public_or_private: bytes, plaintext: bytes, algorithm: str) -> bytes:
    """RSAES-OAEP ciphertext of ``plaintext`` under the key's public half."""
    oaep, limit = _oaep(key_spec, algorithm)
    if len(plaintext) > limit:
        raise KmsValidationError(
            f"Plaintext is too long: {key_spec} with {algorithm} encrypts at most {limit} bytes."
        )
    key = load_public(key_spec, public_or_private)
    assert isinstance(key, rsa.RSAPublicKey)
    return key.encrypt(plaintext, oaep)


def decrypt(key_spec: str, material: bytes, ciphertext: bytes, algorithm: str) -> bytes:
    """Plaintext of an RSAES-OAEP ciphertext; :class:`InvalidCiphertext` on any failure."""
    oaep, _ = _oaep(key_spec, algorithm)
    key = load_private(key_spec, material)
    assert isinstance(key, rsa.RSAPrivateKey)
    if len(ciphertext) != key.key_size // 8:
        raise InvalidCiphertext(_DECRYPT_FAILED)
    try:
        return key.decrypt(ciphertext, oaep)
    except ValueError:
        raise InvalidCiphertext(_DECRYPT_FAILED) from None


def generate_data_key_pair(key_pair_spec: str) -> tuple[bytes, bytes]:
    """A fresh data key pair: (PKCS#8 DER private key, SPKI DER public key)."""
    if key_pair_spec not in DATA_KEY_PAIR_SPECS:
        raise KmsValidationError(
            f"1 validation error detected: Value '{key_pair_spec}' at 'keyPairSpec' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{', '.join(DATA_KEY_PAIR_SPECS)}]"
        )
    key = generate_private_key(key_pair_spec)
    return private_pkcs8(key), public_spki(key.public_key())
