"""SSM storage access with the in-process cache GetParameter needs.

A cached :class:`Entry` is a parameter record prepared for requests: its ARN,
the condition keys that depend on it (``aws:ResourceTag/…``) and its resource
policies joined into one document (:mod:`strongroom.storage.ttl_cache`). As
for KMS keys and IAM identities, a short TTL rather than cross-node
invalidation keeps nodes independent: a change made on another node is seen
within ``cache_ttl`` seconds, and every write made through this object clears
this process's cache at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from strongroom.services.ssm import records as rec
from strongroom.services.ssm.names import parameter_arn
from strongroom.services.ssm.records import Parameter, Version
from strongroom.storage.base import Txn
from strongroom.storage.ttl_cache import CachedRepository


@dataclass
class Entry:
    """A parameter prepared for requests (never mutate ``param`` in place)."""

    param: Parameter
    arn: str
    conditions: dict[str, Any]
    resource_policy: str | None


def joined_policy(param: Parameter) -> str | None:
    """All resource policies of a parameter as one document (their statements)."""
    if not param.resource_policies:
        return None
    statements: list[Any] = []
    for item in param.resource_policies:
        body = json.loads(item["Policy"])
        found = body.get("Statement", [])
        statements.extend(found if isinstance(found, list) else [found])
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def prepare(param: Parameter) -> Entry:
    conditions = {f"aws:ResourceTag/{k}": v for k, v in param.tags.items()}
    arn = parameter_arn(param.region, param.account, param.name)
    return Entry(param, arn, conditions, joined_policy(param))


class SsmTxn:
    """Typed reads and writes of SSM records inside one store transaction."""

    def __init__(self, txn: Txn) -> None:
        self.txn = txn

    def param(self, account: str, region: str, name: str) -> Parameter | None:
        raw = self.txn.get(rec.param_path(account, region, name))
        return None if raw is None else Parameter.loads(raw)

    def put_param(self, param: Parameter) -> None:
        self.txn.put(param.path, param.dumps())

    def version(self, account: str, region: str, name: str, version: int) -> Version | None:
        raw = self.txn.get(rec.version_path(account, region, name, version))
        return None if raw is None else Version.loads(raw)

    def put_version(self, param: Parameter, version: Version) -> None:
        path = rec.version_path(param.account, param.region, param.name, version.version)
        self.txn.put(path, version.dumps())

    def delete_version(self, param: Parameter, version: int) -> None:
        self.txn.delete(rec.version_path(param.account, param.region, param.name, version))

    def delete_param(self, param: Parameter) -> None:
        """The record, every version, its due entries and share index entries."""
        for number in param.versions:
            self.delete_version(param, number)
        for key in param.due:
            self.txn.delete(key)
        for consumer in param.shared_with:
            self.txn.delete(rec.shared_path(consumer, param.region, param.account, param.name))
        self.txn.delete(param.path)

    def counts(self, account: str, region: str) -> dict[str, int]:
        raw = self.txn.get(rec.counts_path(account, region))
        return {} if raw is None else dict(json.loads(raw))

    def add_count(self, account: str, region: str, tier: str, delta: int) -> None:
        counts = self.counts(account, region)
        counts[tier] = max(0, counts.get(tier, 0) + delta)
        self.txn.put(rec.counts_path(account, region), json.dumps(counts).encode())


class SsmRepository(CachedRepository[SsmTxn]):
    def make_caches(self) -> None:
        # The cached read (the GetParameter hot path) is the cache's own
        # ``get``: a hit is one call, with no method of ours wrapped around it.
        self.entry: Callable[[str, str, str], Entry | None] = self.cached(self._load_entry)

    def wrap(self, txn: Txn) -> SsmTxn:
        return SsmTxn(txn)

    def _load_entry(self, account: str, region: str, name: str) -> Entry | None:
        raw = self.store.get(rec.param_path(account, region, name))
        return None if raw is None else prepare(Parameter.loads(raw))

    def params(
        self, account: str, region: str, prefix: str = "", start_after: str = ""
    ) -> Iterator[Parameter]:
        """Parameters whose name starts with ``prefix``, in name order, after a name."""
        base = rec.param_prefix(account, region)
        after = base + start_after if start_after else ""
        while True:
            rows = self.store.scan(base + prefix, start_after=after, limit=200)
            for _, raw in rows:
                yield Parameter.loads(raw)
            if len(rows) < 200:
                return
            after = rows[-1][0]

    def versions(self, account: str, region: str, name: str) -> list[Version]:
        prefix = rec.version_prefix(account, region, name)
        return [Version.loads(raw) for _, raw in self.store.iter_scan(prefix)]
