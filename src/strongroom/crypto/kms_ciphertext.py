"""The symmetric KMS ciphertext blob: our own versioned, authenticated format.

AWS does not publish its blob format, and no client parses it: SDKs hand the
blob back to ``Decrypt`` unchanged. So the format only has to let ``Decrypt``
find the key without a ``KeyId`` and reject anything it did not produce.
The full specification, with the reasoning, is docs/design/ciphertext.md::

    offset  size  field
    0       1     version (0x01)
    1       1     key id kind: 0x01 UUID key id, 0x02 multi-Region key (mrk-…)
    2       5     owning account id, unsigned big-endian (12 decimal digits < 2**40)
    7       16    key id (the UUID's 16 bytes, or the 16 bytes behind "mrk-" + 32 hex)
    23      32    key material id (the backing key; KeyMaterialId is its hex)
    55      16    salt (random per message)
    71      12    nonce (random per message)
    83      n     AES-256-GCM ciphertext of the n-byte plaintext
    83+n    16    GCM tag

Each message is encrypted under its own key, HKDF-Expand (RFC 5869, SHA-256)
of the backing key with info = LABEL || salt, so one backing key can encrypt
far more than the 2**32 messages NIST SP 800-38D allows for random GCM nonces
under one key. The associated data is the 83-byte header followed by the
canonical encoding of the encryption context: changing any header byte, the
ciphertext, the tag or the context makes decryption fail.
"""

from __future__ import annotations

import os
import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.randpool import random_bytes

__all__ = [
    "HEADER_LEN",
    "OVERHEAD",
    "BackingKey",
    "BlobHeader",
    "InvalidCiphertext",
    "encode_context",
    "fingerprint",
    "new_key_material",
    "new_material_id",
    "parse_header",
]

VERSION = 0x01
KIND_UUID = 0x01
KIND_MRK = 0x02
MRK_PREFIX = "mrk-"

_PREFIX_LEN = 55  # version .. key material id: fixed per (key, backing key)
SALT_LEN = 16
NONCE_LEN = 12
TAG_LEN = 16
HEADER_LEN = _PREFIX_LEN + SALT_LEN + NONCE_LEN  # 83
OVERHEAD = HEADER_LEN + TAG_LEN  # 99
KEY_LEN = 32
_OPENED_MAX = 1024  # message keys kept per backing key
MATERIAL_ID_LEN = 32
MAX_ACCOUNT = 10**12 - 1

# HKDF info prefix; the salt and HKDF's block counter 0x01 follow it.
LABEL = b"strongroom/kms/symmetric-ciphertext/v1"


class InvalidCiphertext(ValueError):
    """The blob is not one of ours, was altered, or the context differs.

    Deliberately says nothing about which check failed: a caller probing
    with altered blobs learns only that the blob is invalid.
    """


# Not frozen, though nothing changes it: every Decrypt parses one, and a
# frozen dataclass costs several times as much to build.
@dataclass(slots=True)
class BlobHeader:
    account: str
    key_id: str
    material_id: str  # 64 lowercase hex characters


def new_key_material() -> bytes:
    """Fresh 256-bit backing key material."""
    return os.urandom(KEY_LEN)


def new_material_id() -> str:
    """A random key material id (KeyMaterialId: 64 lowercase hex)."""
    return os.urandom(MATERIAL_ID_LEN).hex()


def fingerprint(material: bytes) -> str:
    """A one-way identifier of key material (SHA-256 with a label, hex).

    Lets the service check that re-imported material is the material a key
    had, after the material itself was deleted. Stored only inside sealed records.
    """
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"strongroom/kms/material-fingerprint/v1" + material)
    return digest.finalize().hex()


def _key_id_bytes(key_id: str) -> tuple[int, bytes]:
    if key_id.startswith(MRK_PREFIX):
        raw = bytes.fromhex(key_id[len(MRK_PREFIX) :])
        if len(raw) != 16 or key_id != MRK_PREFIX + raw.hex():
            raise ValueError(f"not a canonical multi-Region key id: {key_id!r}")
        return KIND_MRK, raw
    parsed = uuid.UUID(key_id)
    if str(parsed) != key_id:
        raise ValueError(f"not a canonical key id: {key_id!r}")
    return KIND_UUID, parsed.bytes


def _prefix(account: str, key_id: str, material_id: str) -> bytes:
    if len(account) != 12 or not account.isdigit():
        raise ValueError(f"not an account id: {account!r}")
    kind, key_bytes = _key_id_bytes(key_id)
    material = bytes.fromhex(material_id)
    if len(material) != MATERIAL_ID_LEN:
        raise ValueError("a key material id is 32 bytes")
    return (
        struct.pack(">BB", VERSION, kind) + int(account).to_bytes(5, "big") + key_bytes + material
    )


def parse_header(blob: bytes) -> BlobHeader:
    """Who a blob names; checks only its shape (the tag is checked on decrypt)."""
    if len(blob) < OVERHEAD or blob[0] != VERSION:
        raise InvalidCiphertext("invalid ciphertext")
    kind = blob[1]
    account_number = int.from_bytes(blob[2:7], "big")
    if account_number > MAX_ACCOUNT:
        raise InvalidCiphertext("invalid ciphertext")
    if kind != KIND_UUID and kind != KIND_MRK:
        raise InvalidCiphertext("invalid ciphertext")
    return BlobHeader(f"{account_number:012d}", _key_id(blob[1:23]), blob[23:_PREFIX_LEN].hex())


# Key id text per blob[1:23] (kind, account and key bytes): a service decrypts
# with few keys, and uuid.UUID cost more than the rest of parsing. Bounded:
# blobs come from clients.
_key_ids: dict[bytes, str] = {}


def _key_id(kind_and_key: bytes) -> str:
    """The key id of a blob's kind byte, account and key bytes (``blob[1:23]``)."""
    hit = _key_ids.get(kind_and_key)
    if hit is not None:
        return hit
    key_bytes = kind_and_key[6:]
    if kind_and_key[0] == KIND_UUID:
        key_id = str(uuid.UUID(bytes=key_bytes))
    else:
        key_id = MRK_PREFIX + key_bytes.hex()
    if len(_key_ids) >= 10_000:
        _key_ids.clear()
    _key_ids[kind_and_key] = key_id
    return key_id


def encode_context(context: Mapping[str, str] | None) -> bytes:
    """The canonical encryption context: count, then (key, value) pairs sorted
    by the key's UTF-8 bytes, every count and length a 2-byte big-endian
    integer. Sorting makes the encoding independent of JSON member order."""
    if not context:
        return b"\x00\x00"
    key = tuple(context.items())
    try:
        hit = _encoded_contexts.get(key)
    except TypeError:  # a value that is not a string: encoding says what is wrong
        return _encode_context(context)
    if hit is not None:
        return hit
    encoded = _encode_context(context)
    if len(_encoded_contexts) >= 10_000:
        _encoded_contexts.clear()
    _encoded_contexts[key] = encoded
    return encoded


# Encoded contexts per (key, value) sequence: a service's callers repeat
# theirs (a secret version's, a parameter's), and encoding one cost more
# than the AES-GCM it binds. Bounded: contexts come from clients.
_encoded_contexts: dict[tuple[tuple[str, str], ...], bytes] = {}


def _encode_context(context: Mapping[str, str]) -> bytes:
    pairs = sorted((k.encode(), v.encode()) for k, v in context.items())
    if len(pairs) > 0xFFFF:
        raise ValueError("too many encryption context pairs")
    out = [len(pairs).to_bytes(2, "big")]
    for key, value in pairs:
        if len(key) > 0xFFFF or len(value) > 0xFFFF:
            raise ValueError("encryption context entry too long")
        out += (len(key).to_bytes(2, "big"), key, len(value).to_bytes(2, "big"), value)
    return b"".join(out)


class BackingKey:
    """One backing key of one KMS key, ready to encrypt and decrypt.

    Built once per (key, backing key) and cached by the service: the header
    prefix and the keyed HMAC state are computed here, so a request pays for
    one HMAC copy, one AES-GCM key setup and the encryption itself (a
    decrypt of a ciphertext decrypted lately, only the decryption).
    """

    __slots__ = ("_hkdf", "_opened", "_prefix", "material_id")

    def __init__(self, account: str, key_id: str, material_id: str, material: bytes) -> None:
        if len(material) != KEY_LEN:
            raise ValueError("symmetric key material is 32 bytes")
        self.material_id = material_id
        self._prefix = _prefix(account, key_id, material_id)
        base = hmac.HMAC(material, hashes.SHA256())
        base.update(LABEL)
        self._hkdf = base
        # Message keys of ciphertexts decrypted lately, by salt. Services
        # decrypt the same few ciphertexts again and again (the data key of
        # a secret or SecureString read on every GetSecretValue or
        # GetParameter); deriving the key was a third of a Decrypt's crypto.
        # It is what the derivation would give (the salt fixes it), held in
        # the same memory as the backing key it comes from.
        self._opened: dict[bytes, AESGCM] = {}

    def _message_key(self, salt: bytes) -> AESGCM:
        h = self._hkdf.copy()
        h.update(salt + b"\x01")
        return AESGCM(h.finalize())

    def _opening_key(self, salt: bytes) -> AESGCM:
        key = self._opened.get(salt)
        if key is None:
            key = self._message_key(salt)
            if len(self._opened) >= _OPENED_MAX:
                self._opened.clear()
            self._opened[salt] = key
        return key

    def encrypt(self, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt under this backing key; ``context`` is :func:`encode_context`'s."""
        fresh = random_bytes(SALT_LEN + NONCE_LEN)  # public: salt and nonce
        header = self._prefix + fresh
        nonce = fresh[SALT_LEN:]
        sealed = self._message_key(fresh[:SALT_LEN]).encrypt(nonce, plaintext, header + context)
        return header + sealed

    def decrypt(self, blob: bytes, context: bytes) -> bytes:
        if len(blob) < OVERHEAD or blob[:_PREFIX_LEN] != self._prefix:
            raise InvalidCiphertext("invalid ciphertext")
        header = blob[:HEADER_LEN]
        salt = blob[_PREFIX_LEN : _PREFIX_LEN + SALT_LEN]
        nonce = blob[_PREFIX_LEN + SALT_LEN : HEADER_LEN]
        try:
            return self._opening_key(salt).decrypt(nonce, blob[HEADER_LEN:], header + context)
        except InvalidTag:
            raise InvalidCiphertext("invalid ciphertext") from None
