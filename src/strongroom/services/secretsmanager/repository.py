"""Secrets Manager storage access, with the small caches the hot path needs.

GetSecretValue needs the secret's metadata (stages, policy, tags for
conditions) and the chosen version's ciphertext. Metadata is cached per
process for ``cache_ttl`` seconds (:mod:`strongroom.storage.ttl_cache`), like
KMS keys: a change made on another node is seen within that time, a change
made through this object at once. Version values are immutable (but for a
change of KMS key, which the cache key covers), so their ciphertext (never
plaintext: a data key still needs KMS to open) is cached until evicted. No
plaintext and no data key is ever cached.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from strongroom.services.secretsmanager import records as rec
from strongroom.services.secretsmanager.records import SecretRecord, VersionValue
from strongroom.storage.base import Txn
from strongroom.storage.ttl_cache import CachedRepository

_MAX_VALUES = 4_096


@dataclass
class SecretEntry:
    """A record prepared for requests (treat as read-only: it is shared)."""

    record: SecretRecord
    arn: str
    # Condition keys that depend only on the secret (ResourceTag, SecretId, …).
    conditions: dict[str, Any]
    stages: dict[str, str]


def secret_conditions(record: SecretRecord) -> dict[str, Any]:
    keys: dict[str, Any] = {
        "secretsmanager:SecretId": record.arn,
        "secretsmanager:SecretPrimaryRegion": record.primary_region or record.region,
    }
    if record.rotation_lambda_arn:
        keys["secretsmanager:resource/AllowRotationLambdaArn"] = record.rotation_lambda_arn
    for tag in record.tags:
        keys[f"aws:ResourceTag/{tag['Key']}"] = tag["Value"]
        keys[f"secretsmanager:ResourceTag/{tag['Key']}"] = tag["Value"]
    return keys


def prepare(record: SecretRecord) -> SecretEntry:
    return SecretEntry(record, record.arn, secret_conditions(record), record.stage_map())


def _due_keys(record: SecretRecord | None) -> set[str]:
    if record is None:
        return set()
    keys = set()
    if record.purge_at is not None:
        when = rec.due_stamp(rec.parse_iso(record.purge_at))
        keys.add(rec.due_path(rec.DUE_PURGE, when, record.account, record.region, record.uid))
    if record.rotation_due is not None and not record.deleted:
        when = rec.due_stamp(rec.parse_iso(record.rotation_due))
        keys.add(rec.due_path(rec.DUE_ROTATE, when, record.account, record.region, record.uid))
    return keys


class SecretsTxn:
    """Typed reads and writes inside one store transaction (or autocommitted)."""

    def __init__(self, txn: Txn) -> None:
        self.txn = txn

    def get(self, account: str, region: str, name: str) -> SecretRecord | None:
        raw = self.txn.get(rec.secret_path(account, region, name))
        return None if raw is None else SecretRecord.loads(raw)

    def put(self, record: SecretRecord, previous: SecretRecord | None) -> None:
        """Write ``record``, keeping the job index in step with it."""
        old, new = _due_keys(previous), _due_keys(record)
        for key in old - new:
            self.txn.delete(key)
        for key in new - old:
            self.txn.put(key, record.name.encode())
        self.txn.put(record.path, record.dumps())

    def delete(self, record: SecretRecord) -> None:
        """Remove the secret, every version value and its job entries."""
        for key in _due_keys(record):
            self.txn.delete(key)
        for key in self.txn.list(rec.values_prefix(record.account, record.region, record.uid)):
            self.txn.delete(key)
        self.txn.delete(record.path)

    def value(self, record: SecretRecord, version_id: str) -> VersionValue | None:
        raw = self.txn.get(rec.value_path(record.account, record.region, record.uid, version_id))
        return None if raw is None else VersionValue.loads(raw)

    def put_value(self, record: SecretRecord, version_id: str, value: VersionValue) -> None:
        path = rec.value_path(record.account, record.region, record.uid, version_id)
        self.txn.put(path, value.dumps())

    def delete_value(self, record: SecretRecord, version_id: str) -> None:
        self.txn.delete(rec.value_path(record.account, record.region, record.uid, version_id))


class SecretsRepository(CachedRepository[SecretsTxn]):
    default_ttl = 1.0

    def make_caches(self) -> None:
        # The cached metadata read is the cache's own ``get``: a hit is one
        # call, with no method of ours wrapped around it.
        self.entry: Callable[[str, str, str], SecretEntry | None] = self.cached(self._load_entry)
        # Version values: an LRU without TTL, which writes do not clear.
        self._values: OrderedDict[tuple[str, str, str, str, str], VersionValue] = OrderedDict()

    def wrap(self, txn: Txn) -> SecretsTxn:
        return SecretsTxn(txn)

    def _load_entry(self, account: str, region: str, name: str) -> SecretEntry | None:
        raw = self.store.get(rec.secret_path(account, region, name))
        return None if raw is None else prepare(SecretRecord.loads(raw))

    # -- cached reads (the hot path): entry, above, and version values --------

    def value(self, record: SecretRecord, version_id: str) -> VersionValue | None:
        # The version's key ids are part of the cache key: UpdateSecret may
        # re-encrypt a version under a new KMS key, and the metadata (refreshed
        # every cache_ttl) then names the new one on every node.
        info = record.versions.get(version_id)
        keys = ",".join(info.kms_key_ids) if info is not None else ""
        key = (record.account, record.region, record.uid, version_id, keys)
        found = self._values.get(key)
        if found is not None:
            self._values.move_to_end(key)
            return found
        found = SecretsTxn(self.store).value(record, version_id)
        if found is not None:
            self._values[key] = found
            if len(self._values) > _MAX_VALUES:
                self._values.popitem(last=False)
        return found

    # -- uncached (and read(), write(): CachedRepository) ----------------------

    def records(self, account: str, region: str) -> Iterator[SecretRecord]:
        for _, raw in self.store.iter_scan(rec.secrets_prefix(account, region)):
            yield SecretRecord.loads(raw)

    def due(self, kind: str, until: str) -> list[tuple[str, str, str]]:
        """(account, region, name) of the job entries of ``kind`` due by ``until``."""
        out = []
        prefix = f"{rec.DUE}{kind}/"
        for key, value in self.store.iter_scan(prefix):
            parts = key[len(prefix) :].split("/")
            if parts[0] > until:
                break
            out.append((parts[1], parts[2], value.decode()))
        return out

    def forget_values(self) -> None:
        self._values.clear()
