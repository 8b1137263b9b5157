"""Per-account RSA keys that sign digest files (SHA256withRSA), as CloudTrail's.

The private key is generated on first use and kept in the sealed store
(``audit/digest-keys/<account>``): the barrier encrypts it like any other
value. Only the public key leaves: exported beside the digests and served by
CloudTrail ListPublicKeys. Fingerprints are the first 16 bytes of the
SHA-256 of the DER public key, in hex (CloudTrail prints 32 hex digits too;
clients only ever compare them).

This is the one audit module that touches key material APIs; it would move
to ``strongroom.crypto`` if another package needed digest signing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from strongroom.storage.base import Store

_PREFIX = "audit/digest-keys/"
ALGORITHM = "SHA256withRSA"


@dataclass(frozen=True)
class PublicKey:
    account: str
    der: bytes
    fingerprint: str
    created: str

    def pem(self) -> bytes:
        key = serialization.load_der_public_key(self.der)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).digest()[:16].hex()


def _public_der(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class DigestKeys:
    """Load or create each account's signing key (store: the sealed store)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, rsa.RSAPrivateKey] = {}

    def _load(self, account: str, created: datetime) -> rsa.RSAPrivateKey:
        cached = self._cache.get(account)
        if cached is not None:
            return cached
        path = f"{_PREFIX}{account}"
        with self._store.transaction() as txn:  # two exporters never make two keys
            raw = txn.get(path)
            if raw is None:
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                der = _public_der(key)
                pkcs8 = key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
                record = {
                    "private": base64.b64encode(pkcs8).decode(),
                    "public": base64.b64encode(der).decode(),
                    "fingerprint": fingerprint(der),
                    "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
                txn.put(path, json.dumps(record).encode())
            else:
                record = json.loads(raw)
        loaded = serialization.load_der_private_key(base64.b64decode(record["private"]), None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"digest key of account {account} is not an RSA key")
        self._cache[account] = loaded
        return loaded

    def fingerprint(self, account: str, now: datetime) -> str:
        """The account's key fingerprint (creating the key on first use)."""
        return fingerprint(_public_der(self._load(account, now)))

    def sign(self, account: str, message: bytes, now: datetime) -> bytes:
        """SHA256withRSA (PKCS#1 v1.5) signature of ``message``."""
        key = self._load(account, now)
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())

    def public_key(self, account: str) -> PublicKey | None:
        raw = self._store.get(f"{_PREFIX}{account}")
        if raw is None:
            return None
        record = json.loads(raw)
        der = base64.b64decode(record["public"])
        return PublicKey(account, der, record["fingerprint"], record["created"])


def load_public_pem(data: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def public_fingerprint(key: rsa.RSAPublicKey) -> str:
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return fingerprint(der)


def verify_signature(key: rsa.RSAPublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
