"""Caching CMM and a local LRU materials cache (spec: framework/caching-cmm.md,
local-cryptographic-materials-cache.md).

Reusing a data key across messages cuts KMS calls for high-volume encryption;
the limits (age, messages, bytes) bound how much data one key protects. Entries
are partitioned by partition name, suite and encryption context, so different
contexts never share a key. Identity-KDF suites and requests of unknown length
bypass the cache (the spec forbids caching them).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from strongroom.sdk.materials import (
    DecryptionMaterials,
    DecryptionRequest,
    EncryptionMaterials,
    EncryptionRequest,
    MaterialsManager,
)
from strongroom.sdk.wire import serialize_encryption_context, u16

M = TypeVar("M", EncryptionMaterials, DecryptionMaterials)
MAX_MESSAGES_LIMIT = 2**32  # caching-cmm.md: limit messages MUST NOT exceed 2^32


@dataclass
class CacheEntry(Generic[M]):
    materials: M
    created: float
    messages: int = 0
    bytes: int = 0


@dataclass
class LocalMaterialsCache:
    """A bounded LRU of materials; thread-safe."""

    capacity: int = 100
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[
        bytes, CacheEntry[EncryptionMaterials] | CacheEntry[DecryptionMaterials]
    ] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(
        self, key: bytes
    ) -> CacheEntry[EncryptionMaterials] | CacheEntry[DecryptionMaterials] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(
        self, key: bytes, entry: CacheEntry[EncryptionMaterials] | CacheEntry[DecryptionMaterials]
    ) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def remove(self, key: bytes) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


class CachingMaterialsManager:
    def __init__(
        self,
        underlying: MaterialsManager,
        cache: LocalMaterialsCache,
        *,
        max_age: float,
        max_messages_encrypted: int = MAX_MESSAGES_LIMIT,
        max_bytes_encrypted: int = 2**63 - 1,
        partition_name: str | None = None,
    ) -> None:
        if max_age <= 0:
            raise ValueError("max_age must be positive")
        if not 0 < max_messages_encrypted <= MAX_MESSAGES_LIMIT:
            raise ValueError("max_messages_encrypted must be in 1..2^32")
        if max_bytes_encrypted < 0:
            raise ValueError("max_bytes_encrypted must not be negative")
        self.underlying = underlying
        self.cache = cache
        self.max_age = max_age
        self.max_messages = max_messages_encrypted
        self.max_bytes = max_bytes_encrypted
        self._partition = hashlib.sha512(
            (partition_name or str(uuid.uuid4())).encode("utf-8")
        ).digest()

    def _expired(self, entry: CacheEntry[M]) -> bool:
        return self.cache.clock() - entry.created > self.max_age

    def _encrypt_key(self, request: EncryptionRequest) -> bytes:
        h = hashlib.sha512(self._partition + b"E")
        h.update(request.suite.id_bytes if request.suite else b"\x00")
        h.update(request.commitment_policy.value.encode())
        h.update(hashlib.sha512(serialize_encryption_context(request.encryption_context)).digest())
        return h.digest()

    def get_encryption_materials(self, request: EncryptionRequest) -> EncryptionMaterials:
        suite = request.suite
        length = request.max_plaintext_length
        if (
            length is None
            or (suite is not None and suite.props.kdf_hash is None)
            or length > self.max_bytes
        ):
            return self.underlying.get_encryption_materials(request)
        key = self._encrypt_key(request)
        entry = self.cache.get(key)
        if isinstance(entry, CacheEntry) and isinstance(entry.materials, EncryptionMaterials):
            if (
                not self._expired(entry)
                and entry.messages + 1 <= self.max_messages
                and entry.bytes + length <= self.max_bytes
            ):
                entry.messages += 1
                entry.bytes += length
                return entry.materials
            self.cache.remove(key)
        materials = self.underlying.get_encryption_materials(request)
        if materials.suite.props.kdf_hash is None:  # never reuse a key without a KDF
            return materials
        self.cache.put(key, CacheEntry(materials, self.cache.clock(), 1, length))
        return materials

    def decrypt_materials(self, request: DecryptionRequest) -> DecryptionMaterials:
        if request.suite.props.kdf_hash is None:
            return self.underlying.decrypt_materials(request)
        h = hashlib.sha512(self._partition + b"D" + request.suite.id_bytes)
        for edk in sorted(
            request.encrypted_data_keys,
            key=lambda e: (e.provider_id, e.provider_info, e.ciphertext),
        ):
            pid = edk.provider_id.encode("utf-8")
            h.update(
                hashlib.sha512(
                    u16(len(pid))
                    + pid
                    + u16(len(edk.provider_info))
                    + edk.provider_info
                    + edk.ciphertext
                ).digest()
            )
        h.update(hashlib.sha512(serialize_encryption_context(request.encryption_context)).digest())
        h.update(
            hashlib.sha512(
                serialize_encryption_context(request.reproduced_encryption_context or {})
            ).digest()
        )
        key = h.digest()
        entry = self.cache.get(key)
        if isinstance(entry, CacheEntry) and isinstance(entry.materials, DecryptionMaterials):
            if not self._expired(entry):
                return entry.materials
            self.cache.remove(key)
        materials = self.underlying.decrypt_materials(request)
        self.cache.put(key, CacheEntry(materials, self.cache.clock()))
        return materials
