"""A Store that seals every value through the barrier.

This is the store services use: values are encrypted with the storage key
as associated data on the way in and authenticated on the way out, so the
database alone reveals nothing but the keys. Keys (paths) are stored in the
clear because ordering and prefix scans need them: never put a secret in a
storage key.

Keys under ``core/`` belong to the barrier (the keyring, the root salt) and
are refused here: they live in the raw store, unsealed by design, and no
service may read or overwrite them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from strongroom.crypto.barrier import Barrier
from strongroom.crypto.keyring import RESERVED_PREFIX
from strongroom.storage.base import LeaderLock, Store, Txn
from strongroom.storage.keys import check_key, check_value


def _public(key: str) -> str:
    check_key(key)
    if key.startswith(RESERVED_PREFIX):
        raise ValueError(f"keys under {RESERVED_PREFIX!r} are reserved for the barrier")
    return key


def _sealed_scan(
    raw: Txn, barrier: Barrier, prefix: str, start_after: str, limit: int | None
) -> list[tuple[str, bytes]]:
    """Scan ``raw`` and open each value, leaving out the reserved keys.

    When reserved keys fall inside the range they are dropped after the
    fact, so a page may come back short; fetch again until it is full, or
    paging (``iter_scan``) would stop early.
    """
    if not isinstance(prefix, str):
        raise TypeError("prefix is str")
    if prefix.startswith(RESERVED_PREFIX):
        raise ValueError(f"keys under {RESERVED_PREFIX!r} are reserved for the barrier")

    def opened(rows: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        return [
            (key, barrier.open(key, blob))
            for key, blob in rows
            if not key.startswith(RESERVED_PREFIX)
        ]

    if limit is None:
        return opened(raw.scan(prefix, start_after=start_after))
    out: list[tuple[str, bytes]] = []
    after = start_after
    while len(out) < limit:
        want = limit - len(out)
        rows = raw.scan(prefix, start_after=after, limit=want)
        out.extend(opened(rows))
        if len(rows) < want:
            break
        after = rows[-1][0]
    return out


class _SealedTxn(Txn):
    def __init__(self, raw: Txn, barrier: Barrier) -> None:
        self._raw = raw
        self._barrier = barrier

    def get(self, key: str) -> bytes | None:
        blob = self._raw.get(_public(key))
        return None if blob is None else self._barrier.open(key, blob)

    def put(self, key: str, value: bytes) -> None:
        _public(key)
        check_value(value)
        self._barrier.refresh_if_due(self._raw)
        self._raw.put(key, self._barrier.seal(key, value))

    def delete(self, key: str) -> bool:
        return self._raw.delete(_public(key))

    def scan(
        self, prefix: str, *, start_after: str = "", limit: int | None = None
    ) -> list[tuple[str, bytes]]:
        return _sealed_scan(self._raw, self._barrier, prefix, start_after, limit)


class SealedStore(Store):
    """``raw`` with every value sealed by ``barrier``; closing it closes ``raw``."""

    def __init__(self, raw: Store, barrier: Barrier) -> None:
        self.raw = raw
        self.barrier = barrier
        self.kind = raw.kind

    def get(self, key: str) -> bytes | None:
        blob = self.raw.get(_public(key))
        return None if blob is None else self.barrier.open(key, blob)

    def put(self, key: str, value: bytes) -> None:
        _public(key)
        check_value(value)
        self.barrier.refresh_if_due(self.raw)
        self.raw.put(key, self.barrier.seal(key, value))

    def delete(self, key: str) -> bool:
        return self.raw.delete(_public(key))

    def scan(
        self, prefix: str, *, start_after: str = "", limit: int | None = None
    ) -> list[tuple[str, bytes]]:
        return _sealed_scan(self.raw, self.barrier, prefix, start_after, limit)

    @contextmanager
    def transaction(self) -> Iterator[Txn]:
        with self.raw.transaction() as txn:
            yield _SealedTxn(txn, self.barrier)

    def leader_lock(self, name: str) -> LeaderLock:
        return self.raw.leader_lock(name)

    def close(self) -> None:
        self.raw.close()

    def __repr__(self) -> str:
        return f"SealedStore({self.raw!r})"
