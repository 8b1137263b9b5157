"""The barrier's keyring: numbered terms of AES-256-GCM data keys.

Each value records the term that sealed it, so rotation only adds a term:
old values stay readable and new writes use the newest term. The keyring is
sealed by the root key and stored at ``core/keyring``; the root key itself
is never stored.

Sealed keyring layout::

    version (1 byte, 0x01) | nonce (12 bytes) | AES-256-GCM(JSON keyring) + tag (16 bytes)

with associated data ``version || "core/keyring"``, so the record cannot be
replayed as anything else.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.crypto.errors import BarrierError

RESERVED_PREFIX = "core/"
KEYRING_PATH = "core/keyring"
ROOT_SALT_PATH = "core/root-salt"

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_TERM = 2**32 - 1  # a term is 4 bytes in every sealed value

_KEYRING_VERSION = b"\x01"
_KEYRING_AAD = _KEYRING_VERSION + KEYRING_PATH.encode()
_JSON_FORMAT = 1


@dataclass(frozen=True)
class Term:
    number: int
    key: bytes = field(repr=False)
    created: float  # Unix time, used to know when every node has seen it


class Keyring:
    """An immutable set of terms and the one that seals new writes.

    The AESGCM objects are built once here and reused for every value:
    building one per call would cost more than the encryption itself.
    """

    __slots__ = ("active", "ciphers", "terms")

    def __init__(self, terms: Mapping[int, Term], active: int) -> None:
        if active not in terms:
            raise ValueError("the active term must be in the keyring")
        for number, term in terms.items():
            if number != term.number or not 1 <= number <= MAX_TERM:
                raise ValueError(f"bad keyring term number {number}")
            if len(term.key) != KEY_BYTES:
                raise ValueError(f"keyring term {number} key is not {KEY_BYTES} bytes")
        self.terms: dict[int, Term] = dict(terms)
        self.active = active
        self.ciphers: dict[int, AESGCM] = {n: AESGCM(t.key) for n, t in self.terms.items()}

    @classmethod
    def new(cls, now: float) -> Keyring:
        return cls({1: Term(1, os.urandom(KEY_BYTES), now)}, 1)

    def rotated(self, now: float) -> Keyring:
        """This keyring plus a fresh term, which becomes the active one."""
        number = max(self.terms) + 1
        if number > MAX_TERM:
            raise BarrierError("the keyring has no term numbers left")
        return Keyring({**self.terms, number: Term(number, os.urandom(KEY_BYTES), now)}, number)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": _JSON_FORMAT,
                "active": self.active,
                "terms": [
                    {
                        "term": t.number,
                        "key": base64.b64encode(t.key).decode(),
                        "created": t.created,
                    }
                    for t in sorted(self.terms.values(), key=lambda t: t.number)
                ],
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Keyring:
        try:
            doc = json.loads(data)
            if doc["format"] != _JSON_FORMAT:
                raise BarrierError(f"keyring format {doc['format']} is not supported")
            terms = {
                int(t["term"]): Term(
                    int(t["term"]), base64.b64decode(t["key"]), float(t["created"])
                )
                for t in doc["terms"]
            }
            return cls(terms, int(doc["active"]))
        except BarrierError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise BarrierError("the keyring record is malformed") from exc

    def __repr__(self) -> str:
        return f"Keyring(terms={sorted(self.terms)}, active={self.active})"


def _check_root(root_key: bytes) -> AESGCM:
    if not isinstance(root_key, bytes) or len(root_key) != KEY_BYTES:
        raise ValueError(f"the root key must be {KEY_BYTES} bytes")
    return AESGCM(root_key)


def seal_keyring(root_key: bytes, keyring: Keyring) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    sealed = _check_root(root_key).encrypt(nonce, keyring.to_json(), _KEYRING_AAD)
    return _KEYRING_VERSION + nonce + sealed


def open_keyring(root_key: bytes, blob: bytes) -> Keyring:
    aead = _check_root(root_key)
    if len(blob) < 1 + NONCE_BYTES + TAG_BYTES or blob[:1] != _KEYRING_VERSION:
        raise BarrierError("the keyring record is damaged or of an unknown version")
    try:
        plain = aead.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], _KEYRING_AAD)
    except InvalidTag:
        raise BarrierError(
            "root key does not open the keyring: wrong passphrase or key file "
            "(or the keyring record was altered)"
        ) from None
    return Keyring.from_json(plain)
