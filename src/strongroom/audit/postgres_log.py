"""The audit log in the PostgreSQL database the key-value store uses.

Tables are named after the store's table (``strongroom_kv_audit_events``...)
so that stores side by side in one database (tests) stay apart. Appends
take one transaction-scoped advisory lock: sequence numbers are then handed
out in commit order across every node, which lets export and tail read
"everything after seq N" without ever missing a late commit. With group
commit a node holds the lock once per batch, not once per request. One
connection per thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg

from strongroom.audit.log import AppendResult, AuditRow, RowKind
from strongroom.audit.sql_log import SqlAuditLog, Tables, attrs_json
from strongroom.forksafe import current_pid
from strongroom.storage.migrations import migrate_postgres
from strongroom.storage.postgres import advisory_key

_Conn = psycopg.Connection[Any]
T = TypeVar("T")


class PostgresAuditLog(SqlAuditLog):
    kind = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        table: str = "strongroom_kv",
        statement_timeout_ms: int = 10_000,
        durable: bool = True,
    ) -> None:
        super().__init__(
            Tables(
                events=f"{table}_audit_events",
                postings=f"{table}_audit_postings",
                pending=f"{table}_audit_pending",
                meta=f"{table}_audit_meta",
                ix_events=f"{table}_audit_events",
                ix_postings=f"{table}_audit_postings",
                ix_meta=f"{table}_audit_meta",
                ph="%s",
            )
        )
        self._writer_key = advisory_key(table, "audit-writers")
        self._indexer_key = advisory_key(table, "audit-indexers")
        self._url = url
        self._timeout_ms = int(statement_timeout_ms)
        self._durable = durable
        self._local = threading.local()
        self._all: list[_Conn] = []
        self._mutex = threading.Lock()
        self._pid = current_pid()
        self._closed = False
        migrate_postgres(self._conn(), table, advisory_key(table, "migrations"))

    def _conn(self, *, fresh: bool = False) -> _Conn:
        if self._pid != current_pid():  # a socket inherited across fork is the parent's
            with self._mutex:
                self._local = threading.local()
                self._all = []
                self._pid = current_pid()
        conn: _Conn | None = getattr(self._local, "conn", None)
        if conn is not None and not fresh and not conn.closed and not conn.broken:
            return conn
        if conn is not None:
            conn.close()
        with self._mutex:
            if self._closed:
                raise RuntimeError("audit log is closed")
        new: _Conn = psycopg.connect(self._url, autocommit=True, connect_timeout=10)
        # A stuck write must fail the batch (fail-closed), not hang requests.
        new.execute(f"SET statement_timeout = {self._timeout_ms}")
        if not self._durable:  # audit_sync=normal: commits do not wait for the WAL flush
            new.execute("SET synchronous_commit = off")
        with self._mutex:
            self._all.append(new)
        self._local.conn = new
        return new

    def _retrying(self, fn: Any) -> Any:
        """Run ``fn(conn)``; once more on a fresh connection if the old one
        broke before anything was sent (a pooled connection the server has
        since dropped). A failure after that is the caller's failure: a
        batch is never retried blindly, as it may have committed.
        """
        conn = self._conn()
        if conn.broken or conn.closed:
            conn = self._conn(fresh=True)
        return fn(conn)

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        def run(conn: _Conn) -> list[Sequence[Any]]:
            return list(conn.execute(sql, tuple(params)).fetchall())

        try:
            rows: list[Sequence[Any]] = self._retrying(run)
        except psycopg.OperationalError:
            # Reads are idempotent: once more on a fresh connection.
            rows = run(self._conn(fresh=True))
        return rows

    def _txn(self, statements: Sequence[tuple[str, Sequence[Any]]], lock: int | None) -> int:
        def run(conn: _Conn) -> int:
            changed = 0
            with conn.transaction():
                if lock is not None:
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
                for sql, params in statements:
                    changed = conn.execute(sql, tuple(params)).rowcount
            return changed

        result: int = self._retrying(run)
        return result

    def _events_txn(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> int:
        return self._txn(statements, None)

    def _index_work(self, work: Callable[[Any], T]) -> T:
        def run(conn: _Conn) -> T:
            with conn.transaction():
                cur = conn.cursor()
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (self._indexer_key,))
                return work(cur)

        result: T = self._retrying(run)
        return result

    def append(self, rows: Sequence[AuditRow], recorded_at_us: int) -> AppendResult:
        result: AppendResult = self._retrying(lambda c: self._append(c, rows, recorded_at_us))
        return result

    def _append(self, conn: _Conn, rows: Sequence[AuditRow], recorded_at_us: int) -> AppendResult:
        """One round trip for a batch of events: a single autocommitted
        statement that takes the writers' lock, then inserts every row . Batches with request entries
        take an explicit transaction."""
        t = self.t
        result = AppendResult()
        intents = [r for r in rows if r.kind is RowKind.INTENT]
        events = [r for r in rows if r.kind is RowKind.EVENT]
        if not intents and all(r.completes is None for r in events):
            if events:
                conn.execute(*self._insert_events(events, recorded_at_us, lock=True))
            result.inserted = len(events)
            return result
        with conn.transaction():
            cur = conn.cursor()
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (self._writer_key,))
            if intents:
                cur.executemany(
                    f"INSERT INTO {t.pending} (event_id, recorded_at, row) VALUES (%s, %s, %s) "
                    "ON CONFLICT (event_id) DO UPDATE SET row = EXCLUDED.row",
                    [(r.event_id, recorded_at_us, r.to_pending()) for r in intents],
                )
            completes = [r.completes for r in events if r.completes is not None]
            if completes:
                cur.execute(
                    f"DELETE FROM {t.pending} WHERE event_id = ANY(%s) RETURNING event_id",
                    (completes,),
                )
                removed = {str(row[0]) for row in cur.fetchall()}
                kept = [r for r in events if r.completes is None or r.completes in removed]
                result.duplicates = [r.event_id for r in events if r not in kept]
                events = kept
            if events:
                cur.execute(*self._insert_events(events, recorded_at_us, lock=False))
            result.inserted = len(events)
        return result

    def _insert_events(
        self, events: Sequence[AuditRow], recorded_at_us: int, *, lock: bool
    ) -> tuple[str, list[Any]]:
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(events))
        params: list[Any] = []
        for r in events:
            params += [
                r.event_id,
                r.account,
                r.region,
                r.event_time_us,
                recorded_at_us,
                r.read_only,
                attrs_json(r),
                r.body,
            ]
        columns = "event_id, account, region, event_time, recorded_at, read_only, attrs, body"
        if not lock:
            return f"INSERT INTO {self.t.events} ({columns}) VALUES {values}", params
        # The lock is taken before the first row (and its sequence number) is
        # produced: seq follows commit order across nodes.
        sql = (
            f"INSERT INTO {self.t.events} ({columns}) SELECT v.* FROM "
            f"(SELECT pg_advisory_xact_lock({self._writer_key})) AS writer_lock, "
            f"(VALUES {values}) AS v({columns})"
        )
        return sql, params

    def close(self) -> None:
        with self._mutex:
            self._closed = True
            conns, self._all = self._all, []
            self._local = threading.local()
        for conn in conns:
            conn.close()

    def __repr__(self) -> str:
        return f"PostgresAuditLog(table={self.t.events!r})"  # the URL may hold a password
