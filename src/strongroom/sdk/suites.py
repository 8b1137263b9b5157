"""Algorithm suites and commitment policies (spec: framework/algorithm-suites.md,
framework/commitment-policy.md, client-apis/key-derivation.md).

Each suite is an Enum member whose value is its two-byte wire id; the table
below carries every property the message format and the key schedule need, so
no code elsewhere switches on suite ids.
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from strongroom.sdk.errors import CommitmentError, PolicyError

IV_LEN = 12  # algorithm-suites.md "IV Length": 12 bytes for every ESDK suite
TAG_LEN = 16  # algorithm-suites.md "Authentication Tag Length": 16 bytes
COMMIT_KEY_LEN = 32  # algorithm-suites.md "Commit Key": 256 bits
_DERIVE_KEY_LABEL = b"DERIVEKEY"  # key-derivation.md "HKDF Encryption Key" info suffix
_COMMIT_KEY_LABEL = b"COMMITKEY"  # key-derivation.md "HKDF Commit Key" info


@dataclass(frozen=True, slots=True)
class SuiteProperties:
    name: str  # the official SDK's identifier, accepted by the CLI
    message_version: int  # 1 or 2 (message.md "Version")
    key_len: int  # AES key length in bytes (= data key length = KDF input length)
    kdf_hash: type[hashes.HashAlgorithm] | None  # None = identity KDF
    curve: type[ec.EllipticCurve] | None  # None = unsigned
    signature_hash: type[hashes.HashAlgorithm] | None
    committing: bool

    @property
    def message_id_len(self) -> int:
        # message-header.md: 16 bytes in v1, 32 bytes in v2
        return 16 if self.message_version == 1 else 32

    @property
    def suite_data_len(self) -> int:
        # algorithm-suites.md "Algorithm Suite Data Length": the commit key, or nothing
        return COMMIT_KEY_LEN if self.committing else 0


_S256, _S384, _S512 = hashes.SHA256, hashes.SHA384, hashes.SHA512


class AlgorithmSuite(enum.IntEnum):
    """The 11 ESDK algorithm suites, by wire id (algorithm-suites.md "Supported Algorithm Suites")."""

    AES_128_GCM_IV12_TAG16 = 0x0014
    AES_192_GCM_IV12_TAG16 = 0x0046
    AES_256_GCM_IV12_TAG16 = 0x0078
    AES_128_GCM_IV12_TAG16_HKDF_SHA256 = 0x0114
    AES_192_GCM_IV12_TAG16_HKDF_SHA256 = 0x0146
    AES_256_GCM_IV12_TAG16_HKDF_SHA256 = 0x0178
    AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256 = 0x0214
    AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384 = 0x0346
    AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384 = 0x0378
    AES_256_GCM_HKDF_SHA512_COMMIT_KEY = 0x0478
    AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 = 0x0578

    @property
    def props(self) -> SuiteProperties:
        return _PROPERTIES[self]

    @property
    def id_bytes(self) -> bytes:
        return self.value.to_bytes(2, "big")

    @property
    def signed(self) -> bool:
        return self.props.curve is not None

    @property
    def committing(self) -> bool:
        return self.props.committing

    @classmethod
    def parse(cls, text: str | int) -> AlgorithmSuite:
        """Accept a wire id (int, "0x0578", "0578") or an official name (with or without ALG_)."""
        if isinstance(text, int):
            return cls(text)
        cleaned = text.strip().upper().removeprefix("ALG_")
        if cleaned in cls.__members__:
            return cls[cleaned]
        try:
            return cls(int(cleaned, 16))
        except ValueError:
            raise ValueError(f"unknown algorithm suite: {text!r}") from None


def _p(
    name: str,
    version: int,
    key_len: int,
    kdf: type[hashes.HashAlgorithm] | None,
    curve: type[ec.EllipticCurve] | None = None,
    sig: type[hashes.HashAlgorithm] | None = None,
    committing: bool = False,
) -> SuiteProperties:
    return SuiteProperties(name, version, key_len, kdf, curve, sig, committing)


_A = AlgorithmSuite
_PROPERTIES: dict[AlgorithmSuite, SuiteProperties] = {
    _A.AES_128_GCM_IV12_TAG16: _p(_A(0x0014).name, 1, 16, None),
    _A.AES_192_GCM_IV12_TAG16: _p(_A(0x0046).name, 1, 24, None),
    _A.AES_256_GCM_IV12_TAG16: _p(_A(0x0078).name, 1, 32, None),
    _A.AES_128_GCM_IV12_TAG16_HKDF_SHA256: _p(_A(0x0114).name, 1, 16, _S256),
    _A.AES_192_GCM_IV12_TAG16_HKDF_SHA256: _p(_A(0x0146).name, 1, 24, _S256),
    _A.AES_256_GCM_IV12_TAG16_HKDF_SHA256: _p(_A(0x0178).name, 1, 32, _S256),
    _A.AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256: _p(
        _A(0x0214).name, 1, 16, _S256, ec.SECP256R1, _S256
    ),
    _A.AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384: _p(
        _A(0x0346).name, 1, 24, _S384, ec.SECP384R1, _S384
    ),
    _A.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384: _p(
        _A(0x0378).name, 1, 32, _S384, ec.SECP384R1, _S384
    ),
    _A.AES_256_GCM_HKDF_SHA512_COMMIT_KEY: _p(_A(0x0478).name, 2, 32, _S512, committing=True),
    _A.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384: _p(
        _A(0x0578).name, 2, 32, _S512, ec.SECP384R1, _S384, True
    ),
}


class CommitmentPolicy(enum.Enum):
    """framework/commitment-policy.md: which suites encrypt may use and decrypt may accept."""

    FORBID_ENCRYPT_ALLOW_DECRYPT = "forbid-encrypt-allow-decrypt"
    REQUIRE_ENCRYPT_ALLOW_DECRYPT = "require-encrypt-allow-decrypt"
    REQUIRE_ENCRYPT_REQUIRE_DECRYPT = "require-encrypt-require-decrypt"

    @classmethod
    def parse(cls, text: str) -> CommitmentPolicy:
        cleaned = text.strip().lower().replace("_", "-")
        return cls(cleaned)

    @property
    def default_suite(self) -> AlgorithmSuite:
        # commitment-policy.md: the forbid policy defaults to 0x0378, the others to 0x0578
        if self is CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT:
            return AlgorithmSuite.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384
        return AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384

    def check_encrypt(self, suite: AlgorithmSuite) -> None:
        if self is CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT:
            if suite.committing:
                raise PolicyError(
                    f"commitment policy {self.value} forbids committing suite {suite.name}"
                )
        elif not suite.committing:
            raise PolicyError(
                f"commitment policy {self.value} requires a committing suite, not {suite.name}"
            )

    def check_decrypt(self, suite: AlgorithmSuite) -> None:
        if self is CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT and not suite.committing:
            raise PolicyError(
                f"commitment policy {self.value} refuses non-committing suite {suite.name}"
            )


def derive_data_key(
    suite: AlgorithmSuite, data_key: bytes, message_id: bytes
) -> tuple[bytes, bytes | None]:
    """Return (derived encryption key, commit key or None) per key-derivation.md."""
    props = suite.props
    if len(data_key) != props.key_len:
        raise ValueError("data key length does not match the algorithm suite")
    if props.kdf_hash is None:  # identity KDF: the data key is the content key
        return data_key, None
    if not props.committing:
        # Salt length 0 -> HKDF's default all-zero salt; info = suite id || message id.
        hkdf = HKDF(props.kdf_hash(), props.key_len, salt=None, info=suite.id_bytes + message_id)
        return hkdf.derive(data_key), None
    # Committing suites: one extract with salt = message id, two expands (spec SHOULD).
    prk = hmac.digest(message_id, data_key, props.kdf_hash().name)  # HKDF-Extract
    enc_key = HKDFExpand(
        props.kdf_hash(), props.key_len, suite.id_bytes + _DERIVE_KEY_LABEL
    ).derive(prk)
    commit_key = HKDFExpand(props.kdf_hash(), COMMIT_KEY_LEN, _COMMIT_KEY_LABEL).derive(prk)
    return enc_key, commit_key


def check_commitment(expected: bytes | None, stored: bytes) -> None:
    """Constant-time comparison of the derived and stored commit keys (key-derivation.md)."""
    if expected is None or not hmac.compare_digest(expected, stored):
        raise CommitmentError("key commitment validation failed")
