"""The Store interface every backend implements.

Modelled on Vault's physical backend: an ordered map from string keys to
opaque byte values. Services never see SQL. Keys are '/'-separated paths
(``iam/000000000000/users/alice``); values are bytes (the barrier above the
store encrypts them). Ordering is bytewise on the UTF-8 key.

Durability: a call that returns has committed (SQLite ``synchronous=FULL``
in WAL mode, PostgreSQL default commit): an acknowledged write survives a
``kill -9`` of the process.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager


class Txn(ABC):
    """A read-write transaction. Writers are serialized against each other."""

    @abstractmethod
    def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    def put(self, key: str, value: bytes) -> None: ...

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove ``key``; True when it existed."""

    @abstractmethod
    def scan(
        self, prefix: str, *, start_after: str = "", limit: int | None = None
    ) -> list[tuple[str, bytes]]:
        """(key, value) pairs whose key starts with ``prefix``, in key order,
        strictly after ``start_after`` when given, at most ``limit``."""

    def list(self, prefix: str, *, start_after: str = "", limit: int | None = None) -> list[str]:
        return [k for k, _ in self.scan(prefix, start_after=start_after, limit=limit)]


class LeaderLock(ABC):
    """A named lock held by at most one process across all nodes.

    Held until ``release()`` or until the holding process dies (PostgreSQL
    session advisory lock; an flock on SQLite's data dir).
    """

    @abstractmethod
    def try_acquire(self) -> bool: ...

    @abstractmethod
    def release(self) -> None: ...

    @property
    @abstractmethod
    def held(self) -> bool: ...


class Store(Txn):
    """A backend. Its own get/put/delete/scan are single autocommitted calls."""

    kind: str = "abstract"

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Txn]:
        """Serializable read-modify-write: commits on normal exit, rolls back on error."""

    @abstractmethod
    def leader_lock(self, name: str) -> LeaderLock: ...

    @abstractmethod
    def close(self) -> None: ...

    def iter_scan(self, prefix: str, *, page: int = 500) -> Iterator[tuple[str, bytes]]:
        """Every pair under ``prefix``, fetched a page at a time."""
        after = ""
        while True:
            rows = self.scan(prefix, start_after=after, limit=page)
            yield from rows
            if len(rows) < page:
                return
            after = rows[-1][0]
