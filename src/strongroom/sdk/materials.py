"""Cryptographic materials and the keyring / CMM contracts (spec:
framework/structures.md, keyring-interface.md, cmm-interface.md).

Materials are immutable; a keyring returns a new value with the data key or an
extra encrypted data key added, which makes multi-keyrings and caches simple to
reason about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives.asymmetric import ec

from strongroom.sdk.header import EncryptedDataKey
from strongroom.sdk.suites import AlgorithmSuite, CommitmentPolicy


@dataclass(frozen=True)
class EncryptionMaterials:
    """structures.md "Encryption Materials"."""

    suite: AlgorithmSuite
    encryption_context: Mapping[str, str]
    encrypted_data_keys: tuple[EncryptedDataKey, ...] = ()
    plaintext_data_key: bytes | None = field(default=None, repr=False)
    signing_key: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    required_encryption_context_keys: tuple[str, ...] = ()

    def with_data_key(self, key: bytes) -> EncryptionMaterials:
        if self.plaintext_data_key is not None:
            raise ValueError("materials already hold a data key")
        if len(key) != self.suite.props.key_len:
            raise ValueError("data key length does not match the algorithm suite")
        return replace(self, plaintext_data_key=key)

    def with_edk(self, edk: EncryptedDataKey) -> EncryptionMaterials:
        return replace(self, encrypted_data_keys=(*self.encrypted_data_keys, edk))


@dataclass(frozen=True)
class DecryptionMaterials:
    """structures.md "Decryption Materials"."""

    suite: AlgorithmSuite
    encryption_context: Mapping[str, str]
    plaintext_data_key: bytes | None = field(default=None, repr=False)
    verification_key: ec.EllipticCurvePublicKey | None = None
    required_encryption_context_keys: tuple[str, ...] = ()
    # Which of the message's EDKs the keyring unwrapped: reported to the user (the CLI's
    # --metadata-output) so an operator can tell which wrapping key was actually used.
    decrypted_data_key: EncryptedDataKey | None = None

    def with_data_key(self, key: bytes, edk: EncryptedDataKey | None = None) -> DecryptionMaterials:
        if self.plaintext_data_key is not None:
            raise ValueError("materials already hold a data key")
        if len(key) != self.suite.props.key_len:
            raise ValueError("data key length does not match the algorithm suite")
        return replace(self, plaintext_data_key=key, decrypted_data_key=edk)


@dataclass(frozen=True)
class EncryptionRequest:
    """cmm-interface.md "Encryption Materials Request"."""

    encryption_context: Mapping[str, str]
    commitment_policy: CommitmentPolicy
    suite: AlgorithmSuite | None = None
    max_plaintext_length: int | None = None


@dataclass(frozen=True)
class DecryptionRequest:
    """cmm-interface.md "Decrypt Materials Request"."""

    suite: AlgorithmSuite
    commitment_policy: CommitmentPolicy
    encrypted_data_keys: tuple[EncryptedDataKey, ...]
    encryption_context: Mapping[str, str]
    reproduced_encryption_context: Mapping[str, str] | None = None


@runtime_checkable
class Keyring(Protocol):
    """keyring-interface.md: OnEncrypt and OnDecrypt."""

    def on_encrypt(self, materials: EncryptionMaterials) -> EncryptionMaterials: ...

    def on_decrypt(
        self, materials: DecryptionMaterials, edks: Sequence[EncryptedDataKey]
    ) -> DecryptionMaterials: ...


@runtime_checkable
class MaterialsManager(Protocol):
    """cmm-interface.md: Get Encryption Materials and Decrypt Materials."""

    def get_encryption_materials(self, request: EncryptionRequest) -> EncryptionMaterials: ...

    def decrypt_materials(self, request: DecryptionRequest) -> DecryptionMaterials: ...
