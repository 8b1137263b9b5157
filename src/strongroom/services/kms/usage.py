"""Last cryptographic use of each key (GetKeyLastUsage), kept off the hot path.

A successful cryptographic request updates an in-memory record; the record
is written to the store at most once per ``interval`` seconds per key and
process. GetKeyLastUsage answers the newer of the stored record and this
process's memory, so the process that served a request reports it at once
and other nodes within ``interval`` seconds. AWS documents the same kind of
delay for its own tracking.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from strongroom.services.kms import records as rec
from strongroom.storage.base import Store

_MAX_ENTRIES = 50_000


@dataclass
class LastUse:
    operation: str
    timestamp: str  # ISO 8601
    request_id: str

    def as_dict(self) -> dict[str, str]:
        return {
            "operation": self.operation,
            "timestamp": self.timestamp,
            "request": self.request_id,
        }


class UsageTracker:
    def __init__(
        self,
        store: Store,
        *,
        interval: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.interval = interval
        self._monotonic = monotonic
        self._latest: dict[tuple[str, str, str], tuple[str, datetime, str]] = {}
        self._written: dict[tuple[str, str, str], float] = {}

    def note(
        self,
        account: str,
        region: str,
        key_id: str,
        operation: str,
        now: datetime,
        request_id: str,
    ) -> None:
        # Hot path: keep the raw values; format only when writing.
        slot = (account, region, key_id)
        if len(self._latest) >= _MAX_ENTRIES:
            self._latest.clear()
            self._written.clear()
        self._latest[slot] = (operation, now, request_id)
        mono = self._monotonic()
        last = self._written.get(slot)
        if last is not None and mono - last < self.interval:
            return
        self._written[slot] = mono
        use = LastUse(operation, rec.iso(now), request_id)
        self.store.put(rec.usage_path(account, region, key_id), json.dumps(use.as_dict()).encode())

    def last_use(self, account: str, region: str, key_id: str) -> LastUse | None:
        raw = self.store.get(rec.usage_path(account, region, key_id))
        stored = None
        if raw is not None:
            data: dict[str, Any] = json.loads(raw)
            stored = LastUse(data["operation"], data["timestamp"], data["request"])
        latest = self._latest.get((account, region, key_id))
        mine = None if latest is None else LastUse(latest[0], rec.iso(latest[1]), latest[2])
        if stored is None:
            return mine
        if mine is None:
            return stored
        return mine if mine.timestamp >= stored.timestamp else stored

    def forget(self, account: str, region: str, key_id: str) -> None:
        self._latest.pop((account, region, key_id), None)
        self._written.pop((account, region, key_id), None)

    def clear(self) -> None:
        self._latest.clear()
        self._written.clear()
