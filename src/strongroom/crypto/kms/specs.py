"""Facts about KMS key specs: which usages and algorithms each one has.

The table is AWS's (key spec reference of the KMS developer guide and the
``KeySpec``/``KeyUsage`` documentation of the botocore model), written out
once so that CreateKey validation, DescribeKey/GetPublicKey output and the
per-operation algorithm checks all agree. The algorithm lists are in the
order AWS reports them in ``DescribeKey``.

``supported`` is Strongroom's own column: a spec AWS has but this build
cannot serve (SM2, whose SM2DSA/SM2PKE/SM3 primitives ``cryptography`` does
not provide; ML-KEM-512, which ``cryptography`` does not implement) is listed
with ``supported=False`` and the reason, so DescribeKey-style listings stay
complete and CreateKey can answer a clear error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from strongroom.crypto.kms.errors import KmsValidationError, UnsupportedAlgorithm

__all__ = [
    "DATA_KEY_PAIR_SPECS",
    "ENCAPSULATE_DECAPSULATE",
    "ENCRYPT_DECRYPT",
    "GENERATE_VERIFY_MAC",
    "KEY_AGREEMENT",
    "KEY_SPECS",
    "KEY_USAGES",
    "MESSAGE_TYPES",
    "SIGN_VERIFY",
    "KeySpecInfo",
    "algorithms_for",
    "require_supported",
    "spec_info",
    "validate_spec_usage",
]

ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
SIGN_VERIFY = "SIGN_VERIFY"
GENERATE_VERIFY_MAC = "GENERATE_VERIFY_MAC"
KEY_AGREEMENT = "KEY_AGREEMENT"
ENCAPSULATE_DECAPSULATE = "ENCAPSULATE_DECAPSULATE"
KEY_USAGES = (
    SIGN_VERIFY,
    ENCRYPT_DECRYPT,
    GENERATE_VERIFY_MAC,
    KEY_AGREEMENT,
    ENCAPSULATE_DECAPSULATE,
)

MESSAGE_TYPES = ("RAW", "DIGEST", "EXTERNAL_MU")

# The DescribeKey field that lists a usage's algorithms.
_USAGE_FIELD = {
    ENCRYPT_DECRYPT: "EncryptionAlgorithms",
    SIGN_VERIFY: "SigningAlgorithms",
    GENERATE_VERIFY_MAC: "MacAlgorithms",
    KEY_AGREEMENT: "KeyAgreementAlgorithms",
    ENCAPSULATE_DECAPSULATE: "EncapsulationAlgorithms",
}


@dataclass(frozen=True)
class KeySpecInfo:
    """One key spec. ``family`` groups specs that share code paths.

    Families: SYMMETRIC, HMAC, RSA, ECC (NIST and SECG curves), EDDSA,
    ML_DSA, ML_KEM, SM2. ``key_bits`` is the RSA modulus, the curve's field
    size, the HMAC/AES key size or the ML parameter set's category, for
    humans (usage reports, docs), not for branching.
    """

    name: str
    family: str
    key_usages: tuple[str, ...]
    key_bits: int
    encryption_algorithms: tuple[str, ...] = ()
    signing_algorithms: tuple[str, ...] = ()
    mac_algorithms: tuple[str, ...] = ()
    key_agreement_algorithms: tuple[str, ...] = ()
    encapsulation_algorithms: tuple[str, ...] = ()
    supported: bool = True
    unsupported_reason: str | None = None

    @property
    def asymmetric(self) -> bool:
        return self.family not in ("SYMMETRIC", "HMAC")

    def algorithms(self, key_usage: str) -> tuple[str, ...]:
        """The algorithms a key of this spec has under ``key_usage``."""
        return {
            ENCRYPT_DECRYPT: self.encryption_algorithms,
            SIGN_VERIFY: self.signing_algorithms,
            GENERATE_VERIFY_MAC: self.mac_algorithms,
            KEY_AGREEMENT: self.key_agreement_algorithms,
            ENCAPSULATE_DECAPSULATE: self.encapsulation_algorithms,
        }.get(key_usage, ())


_RSA_ENCRYPTION = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")
_RSA_SIGNING = (
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
)
_SM2_REASON = (
    "SM2 (China Regions only) needs the SM2DSA, SM2PKE and SM3 primitives, "
    "which the cryptography library does not provide"
)
_MLKEM512_REASON = "ML-KEM-512 is not implemented by the cryptography library"


def _rsa(name: str, bits: int) -> KeySpecInfo:
    return KeySpecInfo(
        name,
        "RSA",
        (ENCRYPT_DECRYPT, SIGN_VERIFY),
        bits,
        encryption_algorithms=_RSA_ENCRYPTION,
        signing_algorithms=_RSA_SIGNING,
    )


def _nist(name: str, bits: int, signing: str) -> KeySpecInfo:
    return KeySpecInfo(
        name,
        "ECC",
        (SIGN_VERIFY, KEY_AGREEMENT),
        bits,
        signing_algorithms=(signing,),
        key_agreement_algorithms=("ECDH",),
    )


def _hmac(bits: int) -> KeySpecInfo:
    return KeySpecInfo(
        f"HMAC_{bits}",
        "HMAC",
        (GENERATE_VERIFY_MAC,),
        bits,
        mac_algorithms=(f"HMAC_SHA_{bits}",),
    )


def _mldsa(level: int, category: int) -> KeySpecInfo:
    return KeySpecInfo(
        f"ML_DSA_{level}",
        "ML_DSA",
        (SIGN_VERIFY,),
        category,
        signing_algorithms=("ML_DSA_SHAKE_256",),
    )


def _mlkem(level: int, category: int, reason: str | None = None) -> KeySpecInfo:
    return KeySpecInfo(
        f"ML_KEM_{level}",
        "ML_KEM",
        (ENCAPSULATE_DECAPSULATE,),
        category,
        encapsulation_algorithms=("ML_KEM",),
        supported=reason is None,
        unsupported_reason=reason,
    )


_ALL = (
    KeySpecInfo(
        "SYMMETRIC_DEFAULT",
        "SYMMETRIC",
        (ENCRYPT_DECRYPT,),
        256,
        encryption_algorithms=("SYMMETRIC_DEFAULT",),
    ),
    _rsa("RSA_2048", 2048),
    _rsa("RSA_3072", 3072),
    _rsa("RSA_4096", 4096),
    _nist("ECC_NIST_P256", 256, "ECDSA_SHA_256"),
    _nist("ECC_NIST_P384", 384, "ECDSA_SHA_384"),
    _nist("ECC_NIST_P521", 521, "ECDSA_SHA_512"),
    # secp256k1 is for signing only: AWS offers KEY_AGREEMENT on NIST curves (and SM2).
    KeySpecInfo(
        "ECC_SECG_P256K1", "ECC", (SIGN_VERIFY,), 256, signing_algorithms=("ECDSA_SHA_256",)
    ),
    KeySpecInfo(
        "ECC_NIST_EDWARDS25519",
        "EDDSA",
        (SIGN_VERIFY,),
        255,
        signing_algorithms=("ED25519_SHA_512", "ED25519_PH_SHA_512"),
    ),
    _hmac(224),
    _hmac(256),
    _hmac(384),
    _hmac(512),
    KeySpecInfo(
        "SM2",
        "SM2",
        (ENCRYPT_DECRYPT, SIGN_VERIFY, KEY_AGREEMENT),
        256,
        encryption_algorithms=("SM2PKE",),
        signing_algorithms=("SM2DSA",),
        key_agreement_algorithms=("ECDH",),
        supported=False,
        unsupported_reason=_SM2_REASON,
    ),
    _mldsa(44, 2),
    _mldsa(65, 3),
    _mldsa(87, 5),
    _mlkem(512, 1, _MLKEM512_REASON),
    _mlkem(768, 3),
    _mlkem(1024, 5),
)

KEY_SPECS: Mapping[str, KeySpecInfo] = MappingProxyType({s.name: s for s in _ALL})

# GenerateDataKeyPair's KeyPairSpec values (the model's DataKeyPairSpec enum).
DATA_KEY_PAIR_SPECS = (
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SM2",
    "ECC_NIST_EDWARDS25519",
    "ML_KEM_512",
    "ML_KEM_768",
    "ML_KEM_1024",
)


def spec_info(key_spec: str) -> KeySpecInfo:
    """The spec's facts, or ValidationException for a name AWS does not have."""
    info = KEY_SPECS.get(key_spec)
    if info is None:
        raise KmsValidationError(
            f"1 validation error detected: Value '{key_spec}' at 'keySpec' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(KEY_SPECS)}]"
        )
    return info


def require_supported(key_spec: str) -> KeySpecInfo:
    """The spec's facts; UnsupportedOperationException if Strongroom cannot serve it."""
    info = spec_info(key_spec)
    if not info.supported:
        raise UnsupportedAlgorithm(
            f"KeySpec {key_spec} is not supported by Strongroom: {info.unsupported_reason}."
        )
    return info


def validate_spec_usage(key_spec: str, key_usage: str) -> None:
    """Check a CreateKey combination as AWS does.

    Raises :class:`KmsValidationError` (a ValueError, AWS ValidationException)
    for an unknown spec or usage or an incompatible pair, and
    :class:`UnsupportedAlgorithm` for a valid AWS pair Strongroom cannot serve.
    """
    info = spec_info(key_spec)
    if key_usage not in KEY_USAGES:
        raise KmsValidationError(
            f"1 validation error detected: Value '{key_usage}' at 'keyUsage' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(KEY_USAGES)}]"
        )
    if key_usage not in info.key_usages:
        raise KmsValidationError(
            f"KeyUsage {key_usage} is not compatible with KeySpec {key_spec}. "
            f"Valid KeyUsage values for {key_spec}: {', '.join(info.key_usages)}."
        )
    require_supported(key_spec)


def algorithms_for(key_spec: str, key_usage: str) -> dict[str, list[str]]:
    """The algorithm field(s) DescribeKey and GetPublicKey report for a key.

    Exactly one field, named as in the KMS API, e.g.
    ``{"SigningAlgorithms": ["ECDSA_SHA_256"]}``. The pair must be valid for
    AWS (ValidationException otherwise); unsupported specs are still described,
    because a listing should not fail on them.
    """
    info = spec_info(key_spec)
    if key_usage not in info.key_usages:
        raise KmsValidationError(f"KeyUsage {key_usage} is not compatible with KeySpec {key_spec}.")
    return {_USAGE_FIELD[key_usage]: list(info.algorithms(key_usage))}
