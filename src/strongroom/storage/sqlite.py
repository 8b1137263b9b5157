"""SQLite backend: the embedded default.

WAL mode lets readers run beside the single writer; ``synchronous=FULL``
fsyncs the WAL on every commit, so an acknowledged write survives kill -9 and
power loss. Each thread gets its own connections (sqlite3 connections are not
safe to share while in use) from a ``threading.local``: a get is one cached
prepared statement on a connection already open, a few microseconds.

Transactions run on a second per-thread connection so that a coroutine
reading through the store while another coroutine on the same event-loop
thread holds a transaction sees committed data, never the other's
uncommitted writes. Writers in every process are serialized by SQLite's own
database write lock (``BEGIN IMMEDIATE``), which is what makes several
server workers and the admin CLI safe on one file.
"""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from strongroom.storage.base import LeaderLock, Store, Txn
from strongroom.storage.keys import check_key, check_value, prefix_end
from strongroom.storage.migrations import migrate_sqlite


@contextmanager
def sqlite_transaction(conn: sqlite3.Connection, begin: str) -> Iterator[sqlite3.Connection]:
    """``begin`` ... COMMIT, or ROLLBACK if anything (even a KeyboardInterrupt) escapes.

    ``conn`` is in autocommit mode (``isolation_level=None``), so this is the
    only transaction; the key-value store and the audit log both use it."""
    conn.execute(begin)
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


_GET = "SELECT value FROM kv WHERE key = ?"
_PUT = (
    "INSERT INTO kv (key, value) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
_DELETE = "DELETE FROM kv WHERE key = ?"
_SCAN = "SELECT key, value FROM kv WHERE key >= ? AND key > ? AND key < ? ORDER BY key LIMIT ?"
_SCAN_UNBOUNDED = "SELECT key, value FROM kv WHERE key >= ? AND key > ? ORDER BY key LIMIT ?"

_LOCK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


class _Connection(sqlite3.Connection):
    """A plain connection that can be weakly referenced.

    The store tracks its connections weakly: when a thread ends, its
    thread-local connections are garbage and close themselves; ``close()``
    closes whichever are still alive.
    """


def _select(conn: sqlite3.Connection, key: str) -> bytes | None:
    check_key(key)
    row = conn.execute(_GET, (key,)).fetchone()
    return None if row is None else bytes(row[0])


def _upsert(conn: sqlite3.Connection, key: str, value: bytes) -> None:
    check_key(key)
    check_value(value)
    conn.execute(_PUT, (key, value))


def _remove(conn: sqlite3.Connection, key: str) -> bool:
    check_key(key)
    return conn.execute(_DELETE, (key,)).rowcount > 0


def _range(
    conn: sqlite3.Connection, prefix: str, start_after: str, limit: int | None
) -> list[tuple[str, bytes]]:
    if not isinstance(prefix, str) or not isinstance(start_after, str):
        raise TypeError("prefix and start_after are str")
    if limit is not None and limit <= 0:
        return []
    cap = -1 if limit is None else limit  # LIMIT -1 means no limit in SQLite
    end = prefix_end(prefix)
    if end is None:
        cursor = conn.execute(_SCAN_UNBOUNDED, (prefix, start_after, cap))
    else:
        cursor = conn.execute(_SCAN, (prefix, start_after, end, cap))
    return [(key, bytes(value)) for key, value in cursor]


class _SqliteTxn(Txn):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._open = True

    def _live(self) -> sqlite3.Connection:
        if not self._open:
            raise RuntimeError("transaction is finished; open a new one")
        return self._conn

    def get(self, key: str) -> bytes | None:
        return _select(self._live(), key)

    def put(self, key: str, value: bytes) -> None:
        _upsert(self._live(), key, value)

    def delete(self, key: str) -> bool:
        return _remove(self._live(), key)

    def scan(
        self, prefix: str, *, start_after: str = "", limit: int | None = None
    ) -> list[tuple[str, bytes]]:
        return _range(self._live(), prefix, start_after, limit)


class _FlockLeaderLock(LeaderLock):
    """``flock`` on a file beside the database.

    The kernel drops an flock when the last descriptor of its open file
    closes, which happens when the holder dies however it dies. Each lock
    object opens its own descriptor, so two objects conflict even inside one
    process, as two PostgreSQL sessions would. A child forked while the lock
    is held shares the descriptor and so keeps the lock alive.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._fd: int | None = None
        self._mutex = threading.Lock()

    def try_acquire(self) -> bool:
        with self._mutex:
            if self._fd is not None:
                return True
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
            return True

    def release(self) -> None:
        with self._mutex:
            if self._fd is None:
                return
            fd, self._fd = self._fd, None
            # Closing drops the lock; the file stays, since unlinking a lock
            # file races with a process that has just opened it.
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None


class SqliteStore(Store):
    kind = "sqlite"

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 30.0) -> None:
        raw = os.fspath(path)
        if raw in ("", ":memory:") or raw.startswith("file:"):
            raise ValueError("SqliteStore needs a file path (connections are per thread)")
        self.path = os.path.abspath(raw)
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._conns: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._mutex = threading.Lock()
        self._closed = False
        _create_private_file(self.path)
        first = self._connect()
        _ensure_wal(first, deadline=time.monotonic() + busy_timeout)
        migrate_sqlite(first)
        self._local.reader = first
        _LIVE_STORES.add(self)

    # -- connections -------------------------------------------------------

    def _connect(self) -> _Connection:
        with self._mutex:
            if self._closed:
                raise RuntimeError(f"store {self.path} is closed")
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,  # autocommit; transactions are explicit
                check_same_thread=False,  # only so close() may close it
                cached_statements=32,
                factory=_Connection,
            )
            # synchronous is per connection, not stored in the file.
            conn.execute("PRAGMA synchronous=FULL")
            self._conns.add(conn)
            return conn

    def _reader(self) -> sqlite3.Connection:
        try:
            conn: sqlite3.Connection = self._local.reader
        except AttributeError:
            conn = self._local.reader = self._connect()
        return conn

    def _writer(self) -> sqlite3.Connection:
        try:
            conn: sqlite3.Connection = self._local.writer
        except AttributeError:
            conn = self._local.writer = self._connect()
        return conn

    def _autocommit_writer(self) -> sqlite3.Connection:
        writer = getattr(self._local, "writer", None)
        if writer is not None and writer.in_transaction:
            # The write would wait for the lock this very thread holds.
            raise RuntimeError(
                "a transaction is open on this thread: write through its Txn, "
                "and never await inside a transaction"
            )
        return self._reader()

    def _forget_after_fork(self) -> None:
        # A connection must not cross fork(); closing the inherited ones
        # could disturb the parent's locks, so they are only abandoned.
        _ABANDONED.extend(self._conns)
        self._conns = weakref.WeakSet()
        self._local = threading.local()
        self._mutex = threading.Lock()

    # -- Store -------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        return _select(self._reader(), key)

    def put(self, key: str, value: bytes) -> None:
        _upsert(self._autocommit_writer(), key, value)

    def delete(self, key: str) -> bool:
        return _remove(self._autocommit_writer(), key)

    def scan(
        self, prefix: str, *, start_after: str = "", limit: int | None = None
    ) -> list[tuple[str, bytes]]:
        return _range(self._reader(), prefix, start_after, limit)

    @contextmanager
    def transaction(self) -> Iterator[Txn]:
        conn = self._writer()
        if conn.in_transaction:
            raise RuntimeError("transactions do not nest: use the Txn already open")
        txn = _SqliteTxn(conn)
        try:
            with sqlite_transaction(conn, "BEGIN IMMEDIATE"):
                yield txn
        finally:
            txn._open = False

    def leader_lock(self, name: str) -> LeaderLock:
        if not _LOCK_NAME.fullmatch(name):
            raise ValueError(f"leader lock name must match {_LOCK_NAME.pattern}")
        return _FlockLeaderLock(f"{self.path}.{name}.lock")

    def close(self) -> None:
        with self._mutex:
            self._closed = True
            conns = list(self._conns)
            self._conns = weakref.WeakSet()
            self._local = threading.local()
        for conn in conns:
            conn.close()

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"


# The page size of databases created from now on (earlier ones keep theirs).
PAGE_SIZE = 16384


def _create_private_file(path: str) -> None:
    """Create the database file 0600 (its keys are plaintext paths).

    SQLite gives its -wal and -shm files the permissions of the database
    file, so this covers them too.
    """
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _ensure_wal(conn: sqlite3.Connection, *, deadline: float) -> None:
    """Switch the file to WAL (a persistent setting) unless it already is.

    The switch needs an exclusive lock; when another process is opening the
    same new file at the same instant, retry until it is done.
    """
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() == "wal":
                return
            # Only a new, empty file takes a page size (it is fixed once
            # in WAL mode). Most of what is written is audit events of
            # 1-2 KB, appended: with 16 KiB pages moving one into the
            # events table cost 8.4 µs instead of 10.7 (fewer WAL frames,
            # each written with two system calls, and fewer to checkpoint).
            conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() == "wal":
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise RuntimeError("could not switch the SQLite database to WAL mode")
        time.sleep(0.01)


# Fork handling is per process by nature: one hook, told about every store.
_LIVE_STORES: weakref.WeakSet[SqliteStore] = weakref.WeakSet()
_ABANDONED: list[sqlite3.Connection] = []


def _after_fork_in_child() -> None:
    for store in list(_LIVE_STORES):
        store._forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
