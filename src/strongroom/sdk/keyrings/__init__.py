"""Keyrings: raw AES, raw RSA, multi, and AWS KMS (strict and discovery)."""

from strongroom.sdk.keyrings.kms import AwsKmsDiscoveryKeyring, AwsKmsKeyring, DiscoveryFilter
from strongroom.sdk.keyrings.multi import MultiKeyring
from strongroom.sdk.keyrings.raw import RawAesKeyring, RawRsaKeyring, RsaPadding

__all__ = [
    "AwsKmsDiscoveryKeyring",
    "AwsKmsKeyring",
    "DiscoveryFilter",
    "MultiKeyring",
    "RawAesKeyring",
    "RawRsaKeyring",
    "RsaPadding",
]
