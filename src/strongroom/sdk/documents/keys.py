"""Keys of a values-only document.

One random 32-byte *document key* is encrypted once, as an ordinary ESDK message, by
the caller's keyring (KMS, raw AES, raw RSA, multi): that message is the metadata's
``data_key``. From the document key, HKDF-SHA256 derives (a) the data key of every value
message and (b) the MAC key. So a document costs one keyring call (one KMS
GenerateDataKey), not one per value, and only keyring holders can verify or forge the MAC.

Sharing one data key across value messages is safe for exactly the suites with a key
derivation function: each ESDK message derives its own AES key from the data key and its
random 32/16-byte message id (the same reuse the caching CMM performs). Identity-KDF
suites would reuse AES-GCM (key, IV) pairs, so they are refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from strongroom.sdk.errors import NoDataKeyError, PolicyError
from strongroom.sdk.header import EncryptedDataKey
from strongroom.sdk.materials import DecryptionMaterials, EncryptionMaterials
from strongroom.sdk.suites import AlgorithmSuite

DOCUMENT_KEY_LEN = 32
VALUE_PROVIDER_ID = "strongroom-values"  # provider id of the EDK in every value message
_VALUE_KEY_INFO = b"strongroom values v1 data key"
_MAC_KEY_INFO = b"strongroom values v1 mac key"

# A signed suite for the data-key message maps to its unsigned twin for the values:
# the document MAC already authenticates the whole document to keyring holders, and a
# per-value ECDSA signature would cost ~2 ms and ~250 characters per value while only
# guarding against those same holders (who can re-MAC anyway, as with SOPS).
_UNSIGNED_TWIN = {
    AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384: (
        AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY
    ),
    AlgorithmSuite.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384: (
        AlgorithmSuite.AES_256_GCM_IV12_TAG16_HKDF_SHA256
    ),
    AlgorithmSuite.AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384: (
        AlgorithmSuite.AES_192_GCM_IV12_TAG16_HKDF_SHA256
    ),
    AlgorithmSuite.AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256: (
        AlgorithmSuite.AES_128_GCM_IV12_TAG16_HKDF_SHA256
    ),
}


def values_suite_for(suite: AlgorithmSuite) -> AlgorithmSuite:
    """The suite value messages use when the data-key message uses ``suite``."""
    chosen = _UNSIGNED_TWIN.get(suite, suite)
    check_values_suite(chosen)
    return chosen


def check_values_suite(suite: AlgorithmSuite) -> None:
    if suite.props.kdf_hash is None:
        raise PolicyError(
            "values-only mode needs an algorithm suite with a key derivation function "
            "(one data key protects many values)"
        )


def _hkdf(document_key: bytes, info: bytes, length: int) -> bytes:
    return HKDF(hashes.SHA256(), length, salt=None, info=info).derive(document_key)


def mac_key(document_key: bytes, document_id: bytes) -> bytes:
    return _hkdf(document_key, _MAC_KEY_INFO + document_id, 32)


class DocumentKeyring:
    """The keyring of value messages: it holds the data key derived from the document key
    and names it by an EDK that carries no key at all (provider id ``strongroom-values``,
    provider info = the document id, empty ciphertext). It is never exposed to users: the
    real wrapping happened once, for the document key."""

    def __init__(self, document_id: bytes, document_key: bytes) -> None:
        self._id = document_id
        self._document_key = document_key
        self._edk = EncryptedDataKey(VALUE_PROVIDER_ID, document_id, b"")

    def _data_key(self, suite: AlgorithmSuite) -> bytes:
        check_values_suite(suite)
        return _hkdf(self._document_key, _VALUE_KEY_INFO + suite.id_bytes, suite.props.key_len)

    def on_encrypt(self, materials: EncryptionMaterials) -> EncryptionMaterials:
        return materials.with_data_key(self._data_key(materials.suite)).with_edk(self._edk)

    def on_decrypt(
        self, materials: DecryptionMaterials, edks: Sequence[EncryptedDataKey]
    ) -> DecryptionMaterials:
        if materials.plaintext_data_key is not None:
            return materials
        for edk in edks:
            if edk == self._edk:
                return materials.with_data_key(self._data_key(materials.suite), edk)
        raise NoDataKeyError("the value was not encrypted under this document's key")
