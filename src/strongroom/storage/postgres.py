"""PostgreSQL backend: for several nodes sharing one database.

Single calls run in autocommit on a pooled connection. Writers serialize on
one transaction-scoped advisory lock per table: ``transaction()`` takes it
first thing, so everything it then reads is the latest committed state and
read-modify-write is safe without SERIALIZABLE retries. Writes are rare next
to reads, so one lock for all writers is simple and costs little. Single
``put``/``delete`` calls take the same lock inside their one statement,
otherwise a plain put could land between a transaction's read and its write
and be lost.

Advisory-lock keys are 64-bit hashes of the table name and a purpose, so
stores on different tables (tests run many side by side) never contend.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg.pq import TransactionStatus

from strongroom.forksafe import current_pid
from strongroom.storage.base import LeaderLock, Store, Txn
from strongroom.storage.keys import check_key, check_value, prefix_end
from strongroom.storage.migrations import migrate_postgres

_T = TypeVar("_T")
_Conn = psycopg.Connection[Any]
_TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,40}")
_LOCK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def advisory_key(*parts: str) -> int:
    """A signed 64-bit advisory-lock key naming ``parts``."""
    digest = hashlib.blake2b(":".join(("strongroom", *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _Sql:
    """The statements for one table, formatted once."""

    def __init__(self, table: str, writer_key: int) -> None:
        self.get = f"SELECT value FROM {table} WHERE key = %s"
        self.put = (
            f"INSERT INTO {table} (key, value) SELECT %s, %s "
            f"FROM (SELECT pg_advisory_xact_lock({writer_key})) AS writer_lock "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
        )
        # The EXISTS is a one-time filter evaluated before the scan, so the
        # lock is taken before the row is looked at.
        self.delete = (
            f"DELETE FROM {table} WHERE key = %s "
            f"AND EXISTS (SELECT pg_advisory_xact_lock({writer_key}))"
        )
        self.txn_put = (
            f"INSERT INTO {table} (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
        )
        self.txn_delete = f"DELETE FROM {table} WHERE key = %s"
        self.lock_writers = f"SELECT pg_advisory_xact_lock({writer_key})"
        self.scan = (
            f"SELECT key, value FROM {table} WHERE key >= %s AND key > %s AND key < %s "
            "ORDER BY key LIMIT %s"
        )
        self.scan_unbounded = (
            f"SELECT key, value FROM {table} WHERE key >= %s AND key > %s ORDER BY key LIMIT %s"
        )


def _select(conn: _Conn, sql: _Sql, key: str) -> bytes | None:
    check_key(key)
    row = conn.execute(sql.get, (key,)).fetchone()
    return None if row is None else bytes(row[0])


def _range(
    conn: _Conn, sql: _Sql, prefix: str, start_after: str, limit: int | None
) -> list[tuple[str, bytes]]:
    if not isinstance(prefix, str) or not isinstance(start_after, str):
        raise TypeError("prefix and start_after are str")
    if limit is not None and limit <= 0:
        return []
    end = prefix_end(prefix)
    if end is None:
        cursor = conn.execute(sql.scan_unbounded, (prefix, start_after, limit))
    else:
        cursor = conn.execute(sql.scan, (prefix, start_after, end, limit))
    return [(key, bytes(value)) for key, value in cursor.fetchall()]


class _Pool:
    """A tiny thread-safe pool: reuse idle connections, open more on demand.

    There is no upper bound on connections in use, so a thread that needs a
    second connection while holding one (a keyring reload inside a
    transaction) can never deadlock against the pool; at most ``max_idle``
    are kept open between uses.
    """

    def __init__(self, connect: Callable[[], _Conn], max_idle: int) -> None:
        self._connect = connect
        self._max_idle = max_idle
        self._idle: list[_Conn] = []
        self._lock = threading.Lock()
        self._pid = current_pid()
        self._closed = False

    def acquire(self) -> _Conn:
        with self._lock:
            if self._closed:
                raise RuntimeError("store is closed")
            if self._pid != current_pid():
                # Inherited across fork: the socket is the parent's. Closing
                # it would end the parent's session, so only forget it.
                _ABANDONED.extend(self._idle)
                self._idle = []
                self._pid = current_pid()
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def release(self, conn: _Conn) -> None:
        reusable = (
            not conn.closed
            and not conn.broken
            and conn.info.transaction_status == TransactionStatus.IDLE
        )
        if reusable:
            with self._lock:
                if (
                    not self._closed
                    and self._pid == current_pid()
                    and len(self._idle) < self._max_idle
                ):
                    self._idle.append(conn)
                    return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class _PgTxn(Txn):
    def __init__(self, conn: _Conn, sql: _Sql) -> None:
        self._conn = conn
        self._sql = sql
        self._open = True

    def _live(self) -> _Conn:
        if not self._open:
            raise RuntimeError("transaction is finished; open a new one")
        return self._conn

    def get(self, key: str) -> bytes | None:
        return _select(self._live(), self._sql, key)

    def put(self, key: str, value: bytes) -> None:
        check_key(key)
        check_value(value)
        self._live().execute(self._sql.txn_put, (key, value))

    def delete(self, key: str) -> bool:
        check_key(key)
        return self._live().execute(self._sql.txn_delete, (key,)).rowcount > 0

    def scan(
        self, prefix: str, *, start_after: str = "", limit: int | None = None
    ) -> list[tuple[str, bytes]]:
        return _range(self._live(), self._sql, prefix, start_after, limit)


class _PgLeaderLock(LeaderLock):
    """A session advisory lock on a connection of its own, held open.

    PostgreSQL drops the lock when the session ends, which it does when the
    holding process dies (its socket closes). ``try_acquire`` while held
    pings the session, so a job loop that calls it every tick notices a lost
    connection and competes again instead of believing it still leads.
    """

    def __init__(self, connect: Callable[[], _Conn], key: int) -> None:
        self._connect = connect
        self._key = key
        self._conn: _Conn | None = None
        self._mutex = threading.Lock()

    def try_acquire(self) -> bool:
        with self._mutex:
            if self._conn is not None:
                try:
                    self._conn.execute("SELECT 1")
                    return True
                except psycopg.Error:
                    self._conn.close()
                    self._conn = None
            conn = self._connect()
            try:
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
            except BaseException:
                conn.close()
                raise
            if row is not None and row[0]:
                self._conn = conn
                return True
            conn.close()
            return False

    def release(self) -> None:
        with self._mutex:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()  # ending the session releases its advisory locks

    @property
    def held(self) -> bool:
        conn = self._conn
        return conn is not None and not conn.closed and not conn.broken


class PostgresStore(Store):
    kind = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        table: str = "strongroom_kv",
        max_idle: int = 8,
        connect_timeout: int = 10,
        lock_timeout_ms: int = 30_000,
    ) -> None:
        if not _TABLE_NAME.fullmatch(table):
            raise ValueError(f"table name must match {_TABLE_NAME.pattern}")
        self._url = url
        self.table = table
        self._connect_timeout = connect_timeout
        self._lock_timeout_ms = int(lock_timeout_ms)
        self._sql = _Sql(table, advisory_key(table, "writers"))
        self._pool = _Pool(self._new_connection, max_idle)
        self._local = threading.local()
        conn = self._pool.acquire()
        try:
            encoding = conn.execute("SHOW server_encoding").fetchone()
            if encoding is None or str(encoding[0]).upper() not in ("UTF8", "UTF-8"):
                raise RuntimeError(
                    "the PostgreSQL database must use UTF8 encoding (keys are "
                    f"ordered bytewise on UTF-8); it uses {encoding}"
                )
            migrate_postgres(conn, table, advisory_key(table, "migrations"))
        finally:
            self._pool.release(conn)

    def _new_connection(self) -> _Conn:
        conn: _Conn = psycopg.connect(
            self._url, autocommit=True, connect_timeout=self._connect_timeout
        )
        # A writer stuck behind another for this long is a bug; fail instead
        # of hanging a request forever.
        conn.execute(f"SET lock_timeout = {self._lock_timeout_ms}")
        return conn

    def _call(self, fn: Callable[[_Conn], _T], *, idempotent: bool) -> _T:
        conn = self._pool.acquire()
        try:
            result = fn(conn)
        except psycopg.OperationalError:
            broken = conn.broken or conn.closed
            self._pool.release(conn)
            if not (idempotent and broken):
                raise
            # A pooled connection the server has since dropped (restart,
            # idle timeout): one retry on a fresh one.
            conn = self._pool.acquire()
            try:
                return fn(conn)
            finally:
                self._pool.release(conn)
        except BaseException:
            self._pool.release(conn)
            raise
        self._pool.release(conn)
        return result

    def _check_no_txn(self) -> None:
        if getattr(self._local, "in_txn", False):
            # The call would wait for the writer lock this thread holds.
            raise RuntimeError(
                "a transaction is open on this thread: write through its Txn, "
                "and never await inside a transaction"
            )

    # -- Store -------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        return self._call(lambda c: _select(c, self._sql, key), idempotent=True)

    def put(self, key: str, value: bytes) -> None:
        check_key(key)
        check_value(value)
        self._check_no_txn()
        self._call(lambda c: c.execute(self._sql.put, (key, value)), idempotent=True)

    def delete(self, key: str) -> bool:
        check_key(key)
        self._check_no_txn()
        cursor = self._call(lambda c: c.execute(self._sql.delete, (key,)), idempotent=False)
        return cursor.rowcount > 0

    def scan(
        self, prefix: str, *, start_after: str = "", limit: int | None = None
    ) -> list[tuple[str, bytes]]:
        return self._call(
            lambda c: _range(c, self._sql, prefix, start_after, limit), idempotent=True
        )

    @contextmanager
    def transaction(self) -> Iterator[Txn]:
        self._check_no_txn()
        conn = self._pool.acquire()
        txn = _PgTxn(conn, self._sql)
        self._local.in_txn = True
        try:
            with conn.transaction():
                conn.execute(self._sql.lock_writers)
                yield txn
        finally:
            txn._open = False
            self._local.in_txn = False
            self._pool.release(conn)

    def leader_lock(self, name: str) -> LeaderLock:
        if not _LOCK_NAME.fullmatch(name):
            raise ValueError(f"leader lock name must match {_LOCK_NAME.pattern}")
        return _PgLeaderLock(self._new_connection, advisory_key(self.table, "leader", name))

    def close(self) -> None:
        self._pool.close()

    def __repr__(self) -> str:
        return f"PostgresStore(table={self.table!r})"  # the URL may hold a password


_ABANDONED: list[_Conn] = []
