"""An in-memory :class:`Store` for unit tests.

A dict plus a sorted key list gives the ordered-map semantics of the real
backends. Transactions hold one re-entrant lock for their whole life (writers
are serialized, as the interface promises) and buffer their writes in an
overlay, so an exception inside ``with store.transaction()`` leaves the
committed data untouched.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from strongroom.storage.base import LeaderLock, Store, Txn
from strongroom.storage.keys import check_key, check_value

_DELETED = None  # overlay marker: the key was deleted inside the transaction


def _scan_sorted(keys: list[str], prefix: str, start_after: str, limit: int | None) -> list[str]:
    start = max(prefix, start_after)
    i = (
        bisect.bisect_right(keys, start)
        if start_after >= prefix
        else bisect.bisect_left(keys, start)
    )
    out: list[str] = []
    while i < len(keys) and keys[i].startswith(prefix):
        if limit is not None and len(out) >= limit:
            break
        out.append(keys[i])
        i += 1
    return out


class _MemoryTxn(Txn):
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._overlay: dict[str, bytes | None] = {}
        self.open = True

    def _check_open(self) -> None:
        if not self.open:
            raise RuntimeError("transaction is closed")

    def get(self, key: str) -> bytes | None:
        self._check_open()
        if key in self._overlay:
            return self._overlay[key]
        return self._store._data.get(key)

    def put(self, key: str, value: bytes) -> None:
        self._check_open()
        check_key(key)
        check_value(value)
        self._overlay[key] = value

    def delete(self, key: str) -> bool:
        self._check_open()
        existed = self.get(key) is not None
        self._overlay[key] = _DELETED
        return existed

    def scan(
        self, prefix: str, *, start_after: str = "", limit: int | None = None
    ) -> list[tuple[str, bytes]]:
        self._check_open()
        merged = sorted(
            {k for k in self._store._keys if k.startswith(prefix)}
            | {k for k in self._overlay if k.startswith(prefix)}
        )
        out: list[tuple[str, bytes]] = []
        for key in _scan_sorted(merged, prefix, start_after, None):
            value = self.get(key)
            if value is None:
                continue
            if limit is not None and len(out) >= limit:
                break
            out.append((key, value))
        return out

    def commit(self) -> None:
        for key, value in self._overlay.items():
            if value is None:
                self._store._remove(key)
            else:
                self._store._set(key, value)


class _MemoryLeaderLock(LeaderLock):
    def __init__(self, store: MemoryStore, name: str) -> None:
        self._store = store
        self._name = name
        self._held = False

    def try_acquire(self) -> bool:
        with self._store._lock:
            if self._held:
                return True
            if self._name in self._store._leaders:
                return False
            self._store._leaders.add(self._name)
            self._held = True
            return True

    def release(self) -> None:
        with self._store._lock:
            if self._held:
                self._store._leaders.discard(self._name)
                self._held = False

    @property
    def held(self) -> bool:
        return self._held


class MemoryStore(Store):
    kind = "memory"

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._keys: list[str] = []
        self._lock = threading.RLock()
        self._leaders: set[str] = set()
        # Like the real backends: no autocommitted write and no nested
        # transaction on a thread that has a transaction open.
        self._local = threading.local()
        # Counters let tests assert that a cache kept a read off the store.
        self.reads = 0

    # -- internal, called with the lock held
    def _set(self, key: str, value: bytes) -> None:
        if key not in self._data:
            bisect.insort(self._keys, key)
        self._data[key] = value

    def _remove(self, key: str) -> bool:
        if key not in self._data:
            return False
        del self._data[key]
        self._keys.pop(bisect.bisect_left(self._keys, key))
        return True

    def _check_no_txn(self) -> None:
        if getattr(self._local, "in_txn", False):
            raise RuntimeError("a transaction is open on this thread: write through its Txn")

    # -- Txn (autocommitted single calls)
    def get(self, key: str) -> bytes | None:
        with self._lock:
            self.reads += 1
            return self._data.get(key)

    def put(self, key: str, value: bytes) -> None:
        check_key(key)
        check_value(value)
        self._check_no_txn()
        with self._lock:
            self._set(key, value)

    def delete(self, key: str) -> bool:
        self._check_no_txn()
        with self._lock:
            return self._remove(key)

    def scan(
        self, prefix: str, *, start_after: str = "", limit: int | None = None
    ) -> list[tuple[str, bytes]]:
        with self._lock:
            self.reads += 1
            keys = _scan_sorted(self._keys, prefix, start_after, limit)
            return [(k, self._data[k]) for k in keys]

    # -- Store
    @contextmanager
    def _transaction(self) -> Iterator[Txn]:
        self._check_no_txn()
        with self._lock:
            txn = _MemoryTxn(self)
            self._local.in_txn = True
            try:
                yield txn
                txn.commit()
            finally:
                txn.open = False
                self._local.in_txn = False

    def transaction(self) -> AbstractContextManager[Txn]:
        return self._transaction()

    def leader_lock(self, name: str) -> LeaderLock:
        return _MemoryLeaderLock(self, name)

    def close(self) -> None:
        pass

    def dump(self) -> dict[str, bytes]:
        """A copy of everything committed (tests grep it for secrets)."""
        with self._lock:
            return dict(self._data)
