"""Sign and Verify: every KMS signing algorithm, RAW, DIGEST and EXTERNAL_MU.

Byte formats are AWS's, so signatures verify with any standard toolkit given
the GetPublicKey output:

* RSASSA-PKCS1-v1_5 and RSASSA-PSS (MGF1 with the same hash, salt length equal
  to the digest length, as the KMS key spec reference states): the raw
  signature, as long as the modulus.
* ECDSA: the DER ``Ecdsa-Sig-Value`` SEQUENCE of r and s.
* Ed25519 (ED25519_SHA_512, RAW only): the 64-byte RFC 8032 signature.
* ML-DSA (ML_DSA_SHAKE_256): the FIPS 204 signature with an empty context.
  EXTERNAL_MU signs the caller's 64-byte message representative mu, which
  gives the same signature family as RAW over the message it came from.

DIGEST means "the message is already the hash": its length must be the
algorithm's digest length (ValidationException otherwise) and it is signed
without hashing again. ML-DSA has no DIGEST (AWS offers EXTERNAL_MU instead);
Ed25519 has DIGEST only through ED25519_PH_SHA_512.

ED25519_PH_SHA_512 (HashEdDSA, RFC 8032 Ed25519ph: with MessageType DIGEST,
KMS takes the caller's SHA-512 digest as the message and Ed25519ph hashes it
once more) cannot be served: ``cryptography`` exposes only pure Ed25519, and
our house rule is that every primitive comes from ``cryptography``. Sign and
Verify with it raise :class:`UnsupportedAlgorithm`; DescribeKey still lists
it, because the spec has it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from strongroom.crypto.kms.errors import InvalidKeyUsage, KmsValidationError, UnsupportedAlgorithm
from strongroom.crypto.kms.keys import load_private, load_public
from strongroom.crypto.kms.specs import MESSAGE_TYPES, require_supported

__all__ = ["SIGNING_ALGORITHMS", "digest_length", "sign", "verify"]

_MLDSA_MU_BYTES = 64


@dataclass(frozen=True)
class _Alg:
    scheme: str  # PKCS1 | PSS | ECDSA | ED25519 | ED25519_PH | ML_DSA | SM2DSA
    hash_name: str | None  # SHA256 | SHA384 | SHA512 (None: no separable hash step)


SIGNING_ALGORITHMS: dict[str, _Alg] = {
    "RSASSA_PSS_SHA_256": _Alg("PSS", "SHA256"),
    "RSASSA_PSS_SHA_384": _Alg("PSS", "SHA384"),
    "RSASSA_PSS_SHA_512": _Alg("PSS", "SHA512"),
    "RSASSA_PKCS1_V1_5_SHA_256": _Alg("PKCS1", "SHA256"),
    "RSASSA_PKCS1_V1_5_SHA_384": _Alg("PKCS1", "SHA384"),
    "RSASSA_PKCS1_V1_5_SHA_512": _Alg("PKCS1", "SHA512"),
    "ECDSA_SHA_256": _Alg("ECDSA", "SHA256"),
    "ECDSA_SHA_384": _Alg("ECDSA", "SHA384"),
    "ECDSA_SHA_512": _Alg("ECDSA", "SHA512"),
    "ED25519_SHA_512": _Alg("ED25519", None),
    "ED25519_PH_SHA_512": _Alg("ED25519_PH", "SHA512"),
    "ML_DSA_SHAKE_256": _Alg("ML_DSA", None),
    "SM2DSA": _Alg("SM2DSA", None),
}

_MESSAGE_TYPES_FOR: dict[str, tuple[str, ...]] = {
    "PSS": ("RAW", "DIGEST"),
    "PKCS1": ("RAW", "DIGEST"),
    "ECDSA": ("RAW", "DIGEST"),
    "SM2DSA": ("RAW", "DIGEST"),
    "ED25519": ("RAW",),
    "ED25519_PH": ("DIGEST",),
    "ML_DSA": ("RAW", "EXTERNAL_MU"),
}

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}


def digest_length(algorithm: str) -> int | None:
    """Bytes a DIGEST message must have for ``algorithm`` (None: DIGEST not allowed)."""
    if algorithm == "SM2DSA":
        return 32  # an SM3 digest (SM2 itself is unsupported; this keeps the table true)
    alg = SIGNING_ALGORITHMS.get(algorithm)
    if alg is None or alg.hash_name is None:
        return None
    return _HASHES[alg.hash_name]().digest_size


def _check(key_spec: str, message: bytes, message_type: str, algorithm: str) -> _Alg:
    """Validate the request the way KMS does, before touching the key."""
    info = require_supported(key_spec)
    alg = SIGNING_ALGORITHMS.get(algorithm)
    if alg is None:
        raise KmsValidationError(
            f"1 validation error detected: Value '{algorithm}' at 'signingAlgorithm' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{', '.join(SIGNING_ALGORITHMS)}]"
        )
    if algorithm not in info.signing_algorithms:
        raise InvalidKeyUsage(
            f"Signing algorithm {algorithm} is not compatible with KeySpec {key_spec}. "
            f"Supported signing algorithms: {', '.join(info.signing_algorithms) or 'none'}."
        )
    if message_type not in MESSAGE_TYPES:
        raise KmsValidationError(
            f"1 validation error detected: Value '{message_type}' at 'messageType' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{', '.join(MESSAGE_TYPES)}]"
        )
    allowed = _MESSAGE_TYPES_FOR[alg.scheme]
    if message_type not in allowed:
        raise KmsValidationError(
            f"Signing algorithm {algorithm} requires MessageType {' or '.join(allowed)}."
        )
    if message_type == "DIGEST" and len(message) != digest_length(algorithm):
        raise KmsValidationError(f"Digest is invalid length for algorithm {algorithm}.")
    if message_type == "EXTERNAL_MU" and len(message) != _MLDSA_MU_BYTES:
        raise KmsValidationError(
            f"EXTERNAL_MU message must be {_MLDSA_MU_BYTES} bytes for algorithm {algorithm}."
        )
    if alg.scheme == "ED25519_PH":
        raise UnsupportedAlgorithm(
            "ED25519_PH_SHA_512 (Ed25519ph) is not supported by Strongroom: the cryptography "
            "library offers only pure Ed25519. Use ED25519_SHA_512 with MessageType RAW."
        )
    return alg


def _hash_arg(alg: _Alg, message_type: str) -> hashes.HashAlgorithm | Prehashed:
    assert alg.hash_name is not None
    hash_algorithm = _HASHES[alg.hash_name]()
    return Prehashed(hash_algorithm) if message_type == "DIGEST" else hash_algorithm


def _rsa_padding(alg: _Alg) -> padding.AsymmetricPadding:
    if alg.scheme == "PKCS1":
        return padding.PKCS1v15()
    assert alg.hash_name is not None
    hash_algorithm = _HASHES[alg.hash_name]()
    # AWS: "salt length equal to the digest length" (256-bit salt for SHA-256, ...).
    return padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=hash_algorithm.digest_size)


def sign(
    key_spec: str, material: bytes, message: bytes, message_type: str, algorithm: str
) -> bytes:
    """The signature KMS ``Sign`` returns for ``message`` under the stored private key."""
    alg = _check(key_spec, message, message_type, algorithm)
    key = load_private(key_spec, material)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(message, _rsa_padding(alg), _hash_arg(alg, message_type))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(message, ec.ECDSA(_hash_arg(alg, message_type)))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    if isinstance(key, mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey):
        return key.sign_mu(message) if message_type == "EXTERNAL_MU" else key.sign(message)
    raise InvalidKeyUsage(f"KeySpec {key_spec} cannot sign.")


def verify(
    key_spec: str,
    material_or_public_der: bytes,
    message: bytes,
    message_type: str,
    algorithm: str,
    signature: bytes,
) -> bool:
    """Whether ``signature`` is valid; request errors raise, a bad signature is False.

    Accepts the stored PKCS#8 material or an SPKI public key. Any malformed
    signature (wrong length, bad DER) is simply invalid, as in KMS, where it
    yields KMSInvalidSignatureException rather than a validation error.
    """
    alg = _check(key_spec, message, message_type, algorithm)
    key = load_public(key_spec, material_or_public_der)
    try:
        _verify_with(key, alg, message, message_type, signature)
    except (InvalidSignature, ValueError):
        return False
    return True


def _verify_with(
    key: PublicKeyTypes, alg: _Alg, message: bytes, message_type: str, signature: bytes
) -> None:
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, message, _rsa_padding(alg), _hash_arg(alg, message_type))
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, message, ec.ECDSA(_hash_arg(alg, message_type)))
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, message)
    elif isinstance(key, mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey):
        if message_type == "EXTERNAL_MU":
            key.verify_mu(signature, message)
        else:
            key.verify(signature, message)
    else:
        raise InvalidSignature
