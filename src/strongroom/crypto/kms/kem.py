"""Encapsulate and Decapsulate: ML-KEM (FIPS 203) with a KMS key pair.

Encapsulate uses the public key to make a 32-byte shared secret and its
ciphertext (1088 bytes for ML_KEM_768, 1568 for ML_KEM_1024); Decapsulate
recovers the secret with the private key. As in KMS, a ciphertext of the
wrong length is InvalidCiphertextException, while a well-formed but wrong or
altered one yields a pseudo-random secret (FIPS 203 implicit rejection), so
the two parties must confirm they agree before relying on it.

ML_KEM_512 is not implemented by ``cryptography`` and so is unsupported.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import mlkem

from strongroom.crypto.kms.errors import InvalidCiphertext, InvalidKeyUsage, KmsValidationError
from strongroom.crypto.kms.keys import load_private, load_public
from strongroom.crypto.kms.specs import ENCAPSULATE_DECAPSULATE, require_supported, spec_info

__all__ = ["ENCAPSULATION_ALGORITHMS", "KEM_CIPHERTEXT_BYTES", "decapsulate", "encapsulate"]

ENCAPSULATION_ALGORITHMS = ("ML_KEM",)
# FIPS 203 ciphertext sizes, as the KMS API reference lists them.
KEM_CIPHERTEXT_BYTES = {"ML_KEM_512": 768, "ML_KEM_768": 1088, "ML_KEM_1024": 1568}


def _check(key_spec: str, algorithm: str) -> None:
    info = spec_info(key_spec)
    if algorithm not in ENCAPSULATION_ALGORITHMS:
        raise KmsValidationError(
            f"1 validation error detected: Value '{algorithm}' at 'encapsulationAlgorithm' failed "
            f"to satisfy constraint: Member must satisfy enum value set: [{', '.join(ENCAPSULATION_ALGORITHMS)}]"
        )
    if ENCAPSULATE_DECAPSULATE not in info.key_usages:
        raise InvalidKeyUsage(f"KeySpec {key_spec} does not support key encapsulation.")
    require_supported(key_spec)


def encapsulate(
    key_spec: str, public_or_private: bytes, algorithm: str = "ML_KEM"
) -> tuple[bytes, bytes]:
    """(shared secret, ciphertext) under the key's public half."""
    _check(key_spec, algorithm)
    key = load_public(key_spec, public_or_private)
    assert isinstance(key, mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey)
    return key.encapsulate()


def decapsulate(
    key_spec: str, material: bytes, ciphertext: bytes, algorithm: str = "ML_KEM"
) -> bytes:
    """The shared secret inside ``ciphertext`` (pseudo-random if it was not ours)."""
    _check(key_spec, algorithm)
    if len(ciphertext) != KEM_CIPHERTEXT_BYTES[key_spec]:
        raise InvalidCiphertext(
            f"SharedSecretCiphertextBlob must be {KEM_CIPHERTEXT_BYTES[key_spec]} bytes for {key_spec}."
        )
    key = load_private(key_spec, material)
    assert isinstance(key, mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey)
    try:
        return key.decapsulate(ciphertext)
    except ValueError:
        raise InvalidCiphertext(
            "The SharedSecretCiphertextBlob is not valid for this key."
        ) from None
