"""KMS storage access with the in-process cache the hot path needs.

Every cryptographic request needs the key record, its parsed policy and a
ready AES-GCM key. Loading them costs a store read, a barrier open and JSON
parsing, so they are cached per process as a :class:`KeyEntry`
(:mod:`strongroom.storage.ttl_cache`). As in :mod:`strongroom.iam.identities`,
a short TTL rather than invalidation messages keeps nodes independent: a key
disabled on one node stops working on every node within ``cache_ttl``
seconds, and every write made through this object clears this process's
cache at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strongroom.crypto.kms_ciphertext import BackingKey
from strongroom.services.kms import records as rec
from strongroom.services.kms.records import AliasRecord, GrantRecord, KeyRecord
from strongroom.storage.base import Txn
from strongroom.storage.ttl_cache import CachedRepository


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


class KmsRepository(CachedRepository[KmsTxn]):
    def make_caches(self) -> None:
        # The cached reads (the hot path) are the caches' own ``get``: a hit
        # is one call, with no method of ours wrapped around it.
        self.entry: Callable[[str, str, str], KeyEntry | None] = self.cached(self._load_entry)
        self.alias_target: Callable[[str, str, str], str | None] = self.cached(
            self._load_alias_target
        )
        self.grants: Callable[[str, str, str], list[GrantRecord]] = self.cached(self._load_grants)

    def wrap(self, txn: Txn) -> KmsTxn:
        return KmsTxn(txn)

    def _load_entry(self, account: str, region: str, key_id: str) -> KeyEntry | None:
        raw = self.store.get(rec.key_path(account, region, key_id))
        return None if raw is None else prepare(KeyRecord.loads(raw))

    def _load_alias_target(self, account: str, region: str, name: str) -> str | None:
        raw = self.store.get(rec.alias_path(account, region, name))
        return None if raw is None else AliasRecord.loads(raw).target

    def _load_grants(self, account: str, region: str, key_id: str) -> list[GrantRecord]:
        return KmsTxn(self.store).grants(account, region, key_id)

    # -- uncached reads (and read(), write(): CachedRepository) ---------------

    def scan(self, prefix: str, start_after: str = "", limit: int | None = None) -> list[bytes]:
        return [v for _, v in self.store.scan(prefix, start_after=start_after, limit=limit)]

    def scan_pairs(
        self, prefix: str, start_after: str = "", limit: int | None = None
    ) -> list[tuple[str, bytes]]:
        return self.store.scan(prefix, start_after=start_after, limit=limit)
