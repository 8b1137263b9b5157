"""Raw AES and raw RSA keyrings (spec: framework/raw-aes-keyring.md, raw-rsa-keyring.md).

The namespace is the EDK's provider id and the key name identifies the wrapping
key; both must match the official SDK's ``RawMasterKey`` provider id / key id to
interoperate.
"""

from __future__ import annotations

import enum
import os
import struct
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.sdk.errors import KeyringError, NoDataKeyError
from strongroom.sdk.header import EncryptedDataKey
from strongroom.sdk.materials import DecryptionMaterials, EncryptionMaterials
from strongroom.sdk.wire import serialize_encryption_context

_RESERVED_NAMESPACE = "aws-kms"  # raw keyrings MUST NOT claim the KMS provider id
_WRAP_IV_LEN = 12
_WRAP_TAG_LEN = 16
_INFO_SUFFIX = struct.Struct(">II")  # Authentication Tag Length (bits, 4) || IV Length (4)


def _check_names(namespace: str, name: str) -> None:
    if namespace == _RESERVED_NAMESPACE:
        raise ValueError('a raw keyring namespace must not be "aws-kms"')
    if not namespace or not name:
        raise ValueError("a raw keyring needs a namespace and a key name")


class RawAesKeyring:
    """Wraps data keys with AES-GCM under a local 128/192/256-bit key."""

    def __init__(self, key_namespace: str, key_name: str, wrapping_key: bytes) -> None:
        _check_names(key_namespace, key_name)
        if len(wrapping_key) not in (16, 24, 32):
            raise ValueError("raw AES wrapping key must be 16, 24 or 32 bytes")
        self.key_namespace = key_namespace
        self.key_name = key_name
        self._name_bytes = key_name.encode("utf-8")
        self._aead = AESGCM(wrapping_key)

    def _provider_info(self, iv: bytes) -> bytes:
        # raw-aes-keyring.md "Key Provider Information": Key Name || Authentication Tag
        # Length (bits, UInt32) || IV Length (bytes, UInt32) || IV
        return self._name_bytes + _INFO_SUFFIX.pack(_WRAP_TAG_LEN * 8, _WRAP_IV_LEN) + iv

    def on_encrypt(self, materials: EncryptionMaterials) -> EncryptionMaterials:
        if materials.plaintext_data_key is None:
            materials = materials.with_data_key(os.urandom(materials.suite.props.key_len))
        assert materials.plaintext_data_key is not None
        iv = os.urandom(_WRAP_IV_LEN)
        # AAD = the serialized encryption context (raw-aes-keyring.md "OnEncrypt")
        aad = serialize_encryption_context(materials.encryption_context)
        sealed = self._aead.encrypt(iv, materials.plaintext_data_key, aad)  # ciphertext || tag
        edk = EncryptedDataKey(self.key_namespace, self._provider_info(iv), sealed)
        return materials.with_edk(edk)

    def on_decrypt(
        self, materials: DecryptionMaterials, edks: Sequence[EncryptedDataKey]
    ) -> DecryptionMaterials:
        if materials.plaintext_data_key is not None:
            return materials
        key_len = materials.suite.props.key_len
        info_len = len(self._name_bytes) + _INFO_SUFFIX.size + _WRAP_IV_LEN
        aad = serialize_encryption_context(materials.encryption_context)
        for edk in edks:
            info = edk.provider_info
            if edk.provider_id != self.key_namespace or len(info) != info_len:
                continue
            name_end = len(self._name_bytes)
            if info[:name_end] != self._name_bytes:
                continue
            tag_bits, iv_len = _INFO_SUFFIX.unpack_from(info, name_end)
            if tag_bits != _WRAP_TAG_LEN * 8 or iv_len != _WRAP_IV_LEN:
                continue
            if len(edk.ciphertext) != key_len + _WRAP_TAG_LEN:
                continue
            try:
                key = self._aead.decrypt(info[-_WRAP_IV_LEN:], edk.ciphertext, aad)
            except InvalidTag:
                continue
            return materials.with_data_key(key, edk)
        raise NoDataKeyError(
            f"raw AES keyring {self.key_namespace}/{self.key_name} decrypted no data key"
        )


class RsaPadding(enum.Enum):
    """raw-rsa-keyring.md "Supported Padding Schemes" (OAEP uses MGF1 with the same hash)."""

    PKCS1 = "pkcs1"
    OAEP_SHA1 = "oaep-sha1"
    OAEP_SHA256 = "oaep-sha256"
    OAEP_SHA384 = "oaep-sha384"
    OAEP_SHA512 = "oaep-sha512"

    def padding(self) -> padding.AsymmetricPadding:
        if self is RsaPadding.PKCS1:
            return padding.PKCS1v15()
        alg: hashes.HashAlgorithm = {
            RsaPadding.OAEP_SHA1: hashes.SHA1(),
            RsaPadding.OAEP_SHA256: hashes.SHA256(),
            RsaPadding.OAEP_SHA384: hashes.SHA384(),
            RsaPadding.OAEP_SHA512: hashes.SHA512(),
        }[self]
        return padding.OAEP(mgf=padding.MGF1(alg), algorithm=alg, label=None)


class RawRsaKeyring:
    """Wraps data keys with RSA; a public key alone encrypts, a private key also decrypts."""

    def __init__(
        self,
        key_namespace: str,
        key_name: str,
        padding_scheme: RsaPadding,
        *,
        public_key: rsa.RSAPublicKey | None = None,
        private_key: rsa.RSAPrivateKey | None = None,
    ) -> None:
        _check_names(key_namespace, key_name)
        if public_key is None and private_key is None:
            raise ValueError("a raw RSA keyring needs a public or a private key")
        if public_key is None and private_key is not None:
            public_key = private_key.public_key()
        self.key_namespace = key_namespace
        self.key_name = key_name
        self._name_bytes = key_name.encode("utf-8")
        self._padding = padding_scheme
        self._public = public_key
        self._private = private_key

    def on_encrypt(self, materials: EncryptionMaterials) -> EncryptionMaterials:
        if self._public is None:
            raise KeyringError("raw RSA keyring has no public key to encrypt with")
        if materials.plaintext_data_key is None:
            materials = materials.with_data_key(os.urandom(materials.suite.props.key_len))
        assert materials.plaintext_data_key is not None
        try:
            wrapped = self._public.encrypt(materials.plaintext_data_key, self._padding.padding())
        except ValueError as exc:  # key too small for the padding
            raise KeyringError(f"raw RSA keyring could not wrap the data key: {exc}") from None
        # raw-rsa-keyring.md: provider info is the key name; the EDK is the RSA ciphertext
        return materials.with_edk(EncryptedDataKey(self.key_namespace, self._name_bytes, wrapped))

    def on_decrypt(
        self, materials: DecryptionMaterials, edks: Sequence[EncryptedDataKey]
    ) -> DecryptionMaterials:
        if materials.plaintext_data_key is not None:
            return materials
        if self._private is None:
            raise NoDataKeyError("raw RSA keyring has no private key")
        for edk in edks:
            if edk.provider_id != self.key_namespace or edk.provider_info != self._name_bytes:
                continue
            try:
                key = self._private.decrypt(edk.ciphertext, self._padding.padding())
            except ValueError:
                continue
            if len(key) != materials.suite.props.key_len:
                continue
            return materials.with_data_key(key, edk)
        raise NoDataKeyError(
            f"raw RSA keyring {self.key_namespace}/{self.key_name} decrypted no data key"
        )
