"""The official aws-encryption-sdk (the interoperability peer), configured with the
same namespace / key name / key bytes as our raw keyrings."""

from __future__ import annotations

from typing import Any

import aws_encryption_sdk
from aws_encryption_sdk.identifiers import (
    Algorithm,
    CommitmentPolicy,
    EncryptionKeyType,
    WrappingAlgorithm,
)
from aws_encryption_sdk.key_providers.raw import RawMasterKeyProvider, WrappingKey
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from strongroom.sdk import RsaPadding

_AES_WRAP = {
    16: WrappingAlgorithm.AES_128_GCM_IV12_TAG16_NO_PADDING,
    24: WrappingAlgorithm.AES_192_GCM_IV12_TAG16_NO_PADDING,
    32: WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
}
_RSA_WRAP = {
    RsaPadding.PKCS1: WrappingAlgorithm.RSA_PKCS1,
    RsaPadding.OAEP_SHA1: WrappingAlgorithm.RSA_OAEP_SHA1_MGF1,
    RsaPadding.OAEP_SHA256: WrappingAlgorithm.RSA_OAEP_SHA256_MGF1,
    RsaPadding.OAEP_SHA384: WrappingAlgorithm.RSA_OAEP_SHA384_MGF1,
    RsaPadding.OAEP_SHA512: WrappingAlgorithm.RSA_OAEP_SHA512_MGF1,
}


class _StaticProvider(RawMasterKeyProvider):  # type: ignore[misc]
    provider_id = ""

    def __init__(self, **kwargs: Any) -> None:  # the base class takes a config object
        self._wrapping_key: WrappingKey | None = None

    def _get_raw_key(self, key_id: bytes) -> WrappingKey:
        assert self._wrapping_key is not None
        return self._wrapping_key


def aes_provider(namespace: str, name: str, key: bytes) -> Any:
    cls = type("AesPeer", (_StaticProvider,), {"provider_id": namespace})
    provider = cls()
    provider._wrapping_key = WrappingKey(
        wrapping_algorithm=_AES_WRAP[len(key)],
        wrapping_key=key,
        wrapping_key_type=EncryptionKeyType.SYMMETRIC,
    )
    provider.add_master_key(name.encode())
    return provider


def rsa_provider(namespace: str, name: str, private_key: rsa.RSAPrivateKey, pad: RsaPadding) -> Any:
    cls = type("RsaPeer", (_StaticProvider,), {"provider_id": namespace})
    provider = cls()
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    provider._wrapping_key = WrappingKey(
        wrapping_algorithm=_RSA_WRAP[pad],
        wrapping_key=pem,
        wrapping_key_type=EncryptionKeyType.PRIVATE,
    )
    provider.add_master_key(name.encode())
    return provider


def client(policy: str = "REQUIRE_ENCRYPT_REQUIRE_DECRYPT") -> Any:
    return aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=getattr(CommitmentPolicy, policy)
    )


def policy_for(suite_id: int) -> str:
    return (
        "REQUIRE_ENCRYPT_ALLOW_DECRYPT"
        if suite_id in (0x0478, 0x0578)
        else "FORBID_ENCRYPT_ALLOW_DECRYPT"
    )


def algorithm(suite_id: int) -> Any:
    return Algorithm.get_by_id(suite_id)
