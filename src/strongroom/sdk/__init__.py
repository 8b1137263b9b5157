"""strongroom.sdk: client-side envelope encryption, byte-compatible with the AWS
Encryption SDK message format (v1 and v2). Never imports the server."""

from strongroom.sdk.api import decrypt, encrypt
from strongroom.sdk.cmm import (
    CachingMaterialsManager,
    DefaultMaterialsManager,
    LocalMaterialsCache,
    RequiredEncryptionContextMaterialsManager,
)
from strongroom.sdk.errors import (
    AuthenticationError,
    CommitmentError,
    DecryptionError,
    DocumentError,
    DocumentFormatError,
    EncryptionContextError,
    KeyringError,
    MalformedMessageError,
    NoDataKeyError,
    PolicyError,
    SDKError,
    SignatureError,
    TruncatedMessageError,
)
from strongroom.sdk.header import ContentType, EncryptedDataKey, Header, describe_edk
from strongroom.sdk.keyrings import (
    AwsKmsDiscoveryKeyring,
    AwsKmsKeyring,
    DiscoveryFilter,
    MultiKeyring,
    RawAesKeyring,
    RawRsaKeyring,
    RsaPadding,
)
from strongroom.sdk.materials import Keyring, MaterialsManager
from strongroom.sdk.stream import StreamDecryptor, StreamEncryptor, decrypt_stream, encrypt_stream
from strongroom.sdk.suites import AlgorithmSuite, CommitmentPolicy

__all__ = [
    "AlgorithmSuite",
    "AuthenticationError",
    "AwsKmsDiscoveryKeyring",
    "AwsKmsKeyring",
    "CachingMaterialsManager",
    "CommitmentError",
    "CommitmentPolicy",
    "ContentType",
    "DecryptionError",
    "DefaultMaterialsManager",
    "DiscoveryFilter",
    "DocumentError",
    "DocumentFormatError",
    "EncryptedDataKey",
    "EncryptionContextError",
    "Header",
    "Keyring",
    "KeyringError",
    "LocalMaterialsCache",
    "MalformedMessageError",
    "MaterialsManager",
    "MultiKeyring",
    "NoDataKeyError",
    "PolicyError",
    "RawAesKeyring",
    "RawRsaKeyring",
    "RequiredEncryptionContextMaterialsManager",
    "RsaPadding",
    "SDKError",
    "SignatureError",
    "StreamDecryptor",
    "StreamEncryptor",
    "TruncatedMessageError",
    "decrypt",
    "decrypt_stream",
    "describe_edk",
    "encrypt",
    "encrypt_stream",
]
