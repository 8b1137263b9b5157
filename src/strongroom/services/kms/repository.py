"""KMS storage access with the in-process cache the hot path needs.

Every cryptographic request needs the key record, its parsed policy and a
ready AES-GCM key. Loading them costs a store read, a barrier open and JSON
parsing, so they are cached per process as a :class:`KeyEntry`. As in
:mod:`strongroom.iam.identities`, a short TTL rather than invalidation
messages keeps nodes independent: a key disabled on one node stops working on
every node within ``cache_ttl`` seconds, and every write made through this
object clears this process's cache at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from strongroom.crypto.kms_ciphertext import BackingKey
from strongroom.services.kms import records as rec
from strongroom.services.kms.records import AliasRecord, GrantRecord, KeyRecord
from strongroom.storage.base import Store, Txn

# Dropped whole when bigger: key ids invented by clients must not grow memory.
_MAX_CACHE = 50_000


@dataclass
class KeyEntry:
    """A key record prepared for requests (never mutate ``record`` in place)."""

    record: KeyRecord
    arn: str
    # Condition keys that depend only on the key (kms:KeySpec, aws:ResourceTag/…).
    conditions: dict[str, Any]
    backing: dict[str, BackingKey] = field(default_factory=dict)
    current: BackingKey | None = None


def key_conditions(record: KeyRecord) -> dict[str, Any]:
    keys: dict[str, Any] = {
        "kms:KeySpec": record.key_spec,
        "kms:KeyUsage": record.key_usage,
        "kms:KeyOrigin": record.origin,
        "kms:MultiRegion": record.multi_region,
        # Deprecated names AWS still evaluates.
        "kms:CustomerMasterKeySpec": record.key_spec,
        "kms:CustomerMasterKeyUsage": record.key_usage,
        "kms:ResourceAliases": list(record.aliases),
    }
    if record.multi_region:
        keys["kms:MultiRegionKeyType"] = "PRIMARY" if record.is_primary else "REPLICA"
    for tag_key, tag_value in record.tags.items():
        keys[f"aws:ResourceTag/{tag_key}"] = tag_value
    return keys


def prepare(record: KeyRecord) -> KeyEntry:
    entry = KeyEntry(record, record.arn, key_conditions(record))
    if record.key_spec == "SYMMETRIC_DEFAULT":
        for material in record.materials:
            if material.secret is not None:
                entry.backing[material.id] = BackingKey(
                    record.account, record.key_id, material.id, material.raw()
                )
        current = record.current_material()
        entry.current = entry.backing.get(current.id) if current is not None else None
    return entry


class KmsTxn:
    """Typed reads and writes of KMS records inside one store transaction."""

    def __init__(self, txn: Txn) -> None:
        self.txn = txn

    def key(self, account: str, region: str, key_id: str) -> KeyRecord | None:
        raw = self.txn.get(rec.key_path(account, region, key_id))
        return None if raw is None else KeyRecord.loads(raw)

    def put_key(self, record: KeyRecord) -> None:
        self.txn.put(record.path, record.dumps())

    def delete_key(self, record: KeyRecord) -> None:
        self.txn.delete(record.path)

    def alias(self, account: str, region: str, name: str) -> AliasRecord | None:
        raw = self.txn.get(rec.alias_path(account, region, name))
        return None if raw is None else AliasRecord.loads(raw)

    def put_alias(self, alias: AliasRecord) -> None:
        self.txn.put(rec.alias_path(alias.account, alias.region, alias.name), alias.dumps())

    def delete_alias(self, account: str, region: str, name: str) -> None:
        self.txn.delete(rec.alias_path(account, region, name))

    def grant(self, account: str, region: str, key_id: str, grant_id: str) -> GrantRecord | None:
        raw = self.txn.get(rec.grant_path(account, region, key_id, grant_id))
        return None if raw is None else GrantRecord.loads(raw)

    def grants(self, account: str, region: str, key_id: str) -> list[GrantRecord]:
        prefix = rec.grant_path(account, region, key_id, "")
        return [GrantRecord.loads(v) for _, v in self.txn.scan(prefix)]

    def put_grant(self, grant: GrantRecord) -> None:
        path = rec.grant_path(grant.account, grant.region, grant.key_id, grant.grant_id)
        self.txn.put(path, grant.dumps())

    def delete_grant(self, grant: GrantRecord) -> None:
        self.txn.delete(rec.grant_path(grant.account, grant.region, grant.key_id, grant.grant_id))

    def put_due(self, kind: str, when: str, record: KeyRecord) -> None:
        self.txn.put(rec.due_path(kind, when, record.account, record.region, record.key_id), b"")

    def delete_due(self, kind: str, when: str | None, record: KeyRecord) -> None:
        if when is not None:
            self.txn.delete(rec.due_path(kind, when, record.account, record.region, record.key_id))


class KmsRepository:
    def __init__(
        self,
        store: Store,
        *,
        cache_ttl: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.cache_ttl = cache_ttl
        self._monotonic = monotonic
        self._keys: dict[tuple[str, str, str], tuple[float, KeyEntry | None]] = {}
        self._aliases: dict[tuple[str, str, str], tuple[float, str | None]] = {}
        self._grants: dict[tuple[str, str, str], tuple[float, list[GrantRecord]]] = {}

    # -- cached reads (the hot path) -----------------------------------------

    def entry(self, account: str, region: str, key_id: str) -> KeyEntry | None:
        cache_key = (account, region, key_id)
        now = self._monotonic()
        cached = self._keys.get(cache_key)
        if cached is not None and cached[0] > now:
            return cached[1]
        raw = self.store.get(rec.key_path(account, region, key_id))
        entry = None if raw is None else prepare(KeyRecord.loads(raw))
        if len(self._keys) >= _MAX_CACHE:
            self._keys.clear()
        self._keys[cache_key] = (now + self.cache_ttl, entry)
        return entry

    def alias_target(self, account: str, region: str, name: str) -> str | None:
        cache_key = (account, region, name)
        now = self._monotonic()
        cached = self._aliases.get(cache_key)
        if cached is not None and cached[0] > now:
            return cached[1]
        raw = self.store.get(rec.alias_path(account, region, name))
        target = None if raw is None else AliasRecord.loads(raw).target
        if len(self._aliases) >= _MAX_CACHE:
            self._aliases.clear()
        self._aliases[cache_key] = (now + self.cache_ttl, target)
        return target

    def grants(self, account: str, region: str, key_id: str) -> list[GrantRecord]:
        cache_key = (account, region, key_id)
        now = self._monotonic()
        cached = self._grants.get(cache_key)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = KmsTxn(self.store).grants(account, region, key_id)
        if len(self._grants) >= _MAX_CACHE:
            self._grants.clear()
        self._grants[cache_key] = (now + self.cache_ttl, found)
        return found

    # -- uncached reads --------------------------------------------------------

    def read(self) -> KmsTxn:
        """Autocommitted reads of the latest committed records."""
        return KmsTxn(self.store)

    def scan(self, prefix: str, start_after: str = "", limit: int | None = None) -> list[bytes]:
        return [v for _, v in self.store.scan(prefix, start_after=start_after, limit=limit)]

    def scan_pairs(
        self, prefix: str, start_after: str = "", limit: int | None = None
    ) -> list[tuple[str, bytes]]:
        return self.store.scan(prefix, start_after=start_after, limit=limit)

    # -- writes ------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[KmsTxn]:
        """One serializable transaction; this process's caches are cleared after it."""
        try:
            with self.store.transaction() as txn:
                yield KmsTxn(txn)
        finally:
            self.invalidate()

    def invalidate(self) -> None:
        self._keys.clear()
        self._aliases.clear()
        self._grants.clear()
