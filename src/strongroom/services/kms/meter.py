"""Request counters per key and operation, for ``strongroom kms usage``.

The hot path is one dictionary increment: every authorized KMS request that
names a key adds 1 to an in-memory counter of this process. At most every
``interval`` seconds (checked on the next request), and when the platform
closes, the counters are merged into hourly buckets in the store, one
transaction for all of them, so several processes and nodes add up
correctly. Counts reach the store within ``interval`` seconds while requests
keep coming, or at shutdown; what an abruptly killed process had not flushed
is lost (at most ``interval`` seconds of counts).

Storage (values sealed like everything else; keys hold only ids)::

    kms/requests/<caller account>/<yyyymmddhh>/<region>/<key account>/<key id>
        {"spec": "SYMMETRIC_DEFAULT", "manager": "CUSTOMER",
         "ops": {"Encrypt": 120, "GenerateDataKeyPair:RSA_2048": 3}}

The caller's account leads the path because AWS bills a request to the
account that makes it, including requests for another account's key.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from strongroom.services.kms.records import KeyRecord
from strongroom.storage.base import Store

log = logging.getLogger("strongroom.kms.meter")

REQUESTS = "kms/requests/"
HOUR_FORMAT = "%Y%m%d%H"
# Operations whose price depends on the data key pair spec, not on the KMS key.
PAIR_OPERATIONS = frozenset({"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"})
# A counter per (caller, hour, key, operation): bounded by real keys, since
# only authorized requests on existing keys count. A runaway is dropped.
_MAX_SLOTS = 100_000

# (caller account, year, month, day, hour (UTC), key account, region, key id,
#  key spec, key manager, operation)
Slot = tuple[str, int, int, int, int, str, str, str, str, str, str]


def hour_label(hour_index: int) -> str:
    """``yyyymmddhh`` of an hour counted from the epoch (UTC)."""
    return datetime.fromtimestamp(hour_index * 3600, UTC).strftime(HOUR_FORMAT)


def requests_path(caller: str, hour: str, region: str, key_account: str, key_id: str) -> str:
    return f"{REQUESTS}{caller}/{hour}/{region}/{key_account}/{key_id}"


def parse_requests_path(path: str) -> tuple[str, str, str, str, str]:
    """(caller account, yyyymmddhh, region, key account, key id)."""
    caller, hour, region, key_account, key_id = path[len(REQUESTS) :].split("/")
    return caller, hour, region, key_account, key_id


class RequestMeter:
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
        self._counts: dict[Slot, int] = {}
        self._flush_at = monotonic() + interval

    def count(self, caller: str, now: datetime, key: KeyRecord, operation: str) -> None:
        """One request (the hot path: no formatting, no I/O unless a flush is due).

        ``now`` is the request's time from the platform clock, which is UTC:
        its calendar fields are the hour bucket (``timestamp()`` would cost
        several times more than the rest of this method).
        """
        slot = (
            caller,
            now.year,
            now.month,
            now.day,
            now.hour,
            key.account,
            key.region,
            key.key_id,
            key.key_spec,
            key.manager,
            operation,
        )
        counts = self._counts
        counts[slot] = counts.get(slot, 0) + 1
        if self._monotonic() >= self._flush_at:
            self.flush()

    def flush(self) -> None:
        """Merge this process's counters into the store's hourly buckets."""
        self._flush_at = self._monotonic() + self.interval
        pending, self._counts = self._counts, {}
        if not pending:
            return
        buckets: dict[str, tuple[str, str, dict[str, int]]] = {}
        for slot, n in pending.items():
            caller, year, month, day, hour, key_account, region, key_id, spec, manager, op = slot
            label = f"{year:04d}{month:02d}{day:02d}{hour:02d}"
            path = requests_path(caller, label, region, key_account, key_id)
            ops = buckets.setdefault(path, (spec, manager, {}))[2]
            ops[op] = ops.get(op, 0) + n
        try:
            with self.store.transaction() as txn:
                for path, (spec, manager, ops) in buckets.items():
                    raw = txn.get(path)
                    merged: dict[str, int] = json.loads(raw).get("ops", {}) if raw else {}
                    for op, n in ops.items():
                        merged[op] = merged.get(op, 0) + n
                    bucket = {"spec": spec, "manager": manager, "ops": merged}
                    txn.put(path, json.dumps(bucket, sort_keys=True).encode())
        except Exception:
            # Counting must never fail a request: keep the counts for the next try.
            log.warning("could not write KMS request counters; will retry", exc_info=True)
            if len(self._counts) + len(pending) <= _MAX_SLOTS:
                for slot, n in pending.items():
                    self._counts[slot] = self._counts.get(slot, 0) + n

    def pending(self) -> int:
        """Requests counted in memory and not yet written (for tests and shutdown logs)."""
        return sum(self._counts.values())

    def clear(self) -> None:
        self._counts.clear()
