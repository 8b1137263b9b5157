"""The audit log in the SQLite database file the key-value store uses.

Events go into that file and its WAL, in order with the store's own
writes: an appended batch that returned survives kill -9, and is on disk
no later than the store's next durable commit (``synchronous=NORMAL`` by
default, ``FULL`` with audit_sync=full; docs/design/audit.md). The lookup index is
derived data and lives in a side file, ``<database>-audit-index``: SQLite
has one write lock per file, and indexing a few thousand events must not
hold the lock that every request's batch waits for. The side file is
rebuilt from the events if it is lost or belongs to another database
(its ``indexed_seq`` is past the newest event).

Three kinds of connection per thread: *plain* (events only: appends take
``BEGIN IMMEDIATE``, which would lock every attached file), *reader* (the
side file attached as ``ix``, for lookups) and *indexer* (the side file as
main, the events attached as ``ev``). Writers in every worker process
serialize on each file's lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from strongroom.audit.log import AppendResult, AuditRow, RowKind
from strongroom.audit.sql_log import SqlAuditLog, Tables, attrs_json
from strongroom.forksafe import current_pid
from strongroom.storage.migrations import migrate_sqlite
from strongroom.storage.sqlite import sqlite_transaction

T = TypeVar("T")

_INDEX_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS audit_postings (account TEXT NOT NULL, region TEXT NOT NULL, "
    "attr TEXT NOT NULL, value TEXT NOT NULL, max_time INTEGER NOT NULL, "
    "last_seq INTEGER NOT NULL, min_time INTEGER NOT NULL, entries BLOB NOT NULL, "
    "PRIMARY KEY (account, region, attr, value, max_time, last_seq)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS audit_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO audit_meta (name, value) VALUES ('indexed_seq', 0)",
)


_CHECKPOINT_EVERY = 0.25  # seconds


class _Conn(sqlite3.Connection):
    """Weakly referenceable, so a finished thread's connection can be collected."""


class SqliteAuditLog(SqlAuditLog):
    kind = "sqlite"

    def __init__(
        self,
        path: str,
        *,
        busy_timeout: float = 10.0,
        background_checkpoint: bool = False,
        durable: bool = True,
    ) -> None:
        super().__init__(
            Tables(
                events="audit_events",
                postings="ix.audit_postings",
                pending="audit_pending",
                meta="ix.audit_meta",
                ix_events="ev.audit_events",
                ix_postings="audit_postings",
                ix_meta="audit_meta",
                ph="?",
            )
        )
        self.path = os.path.abspath(path)
        self.index_path = f"{self.path}-audit-index"
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._conns: weakref.WeakSet[_Conn] = weakref.WeakSet()
        self._mutex = threading.Lock()
        self._pid = current_pid()
        self._closed = False
        self._checkpoints = background_checkpoint
        # Appends wait for the disk (FULL) only with audit_sync=full.
        self._append_sync = "FULL" if durable else "NORMAL"
        # flock for appends (per open file: the mutex orders this process's threads)
        self._append_mutex = threading.Lock()
        self._lock_fd: int | None = None
        self._lock_pid = current_pid()
        migrate_sqlite(self._conn("plain"))  # a no-op when the store already migrated
        self._open_index()
        if background_checkpoint:
            threading.Thread(
                target=self._checkpoint_loop, name="strongroom-audit-checkpoint", daemon=True
            ).start()

    # -- connections -------------------------------------------------------------

    def _new(self, path: str, synchronous: str) -> _Conn:
        conn = sqlite3.connect(
            path,
            timeout=self._busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            factory=_Conn,
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        return conn

    def _conn(self, kind: str) -> sqlite3.Connection:
        if self._pid != current_pid():  # inherited across fork: never reuse
            with self._mutex:
                self._local = threading.local()
                self._conns = weakref.WeakSet()
                self._pid = current_pid()
        conn: sqlite3.Connection | None = getattr(self._local, kind, None)
        if conn is not None:
            return conn
        with self._mutex:
            if self._closed:
                raise RuntimeError("audit log is closed")
        if kind == "indexer":
            # Derived data: NORMAL is crash-safe in WAL mode and a lost
            # commit is simply indexed again. A bigger page cache keeps the
            # index's inner pages in memory while thousands of rows go in.
            new = self._new(self.index_path, "NORMAL")
            new.execute("PRAGMA cache_size=-65536")
            new.execute("ATTACH DATABASE ? AS ev", (self.path,))
        else:
            new = self._new(self.path, self._append_sync if kind == "plain" else "FULL")
            if kind == "reader":
                new.execute("ATTACH DATABASE ? AS ix", (self.index_path,))
            elif self._checkpoints:
                # The commit that crosses the WAL threshold would copy the
                # WAL into the database itself while requests wait for it;
                # a background thread checkpoints instead.
                new.execute("PRAGMA wal_autocheckpoint=0")
        with self._mutex:
            self._conns.add(new)
        setattr(self._local, kind, new)
        return new

    def _open_index(self) -> None:
        with contextlib.suppress(FileExistsError):  # 0600 like the database
            os.close(os.open(self.index_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        conn = self._conn("indexer")
        old_format = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'audit_index'"
        ).fetchall()
        for statement in _INDEX_SCHEMA:
            conn.execute(statement)
        if old_format:  # the index of an earlier version: rebuilt as postings
            conn.execute("DROP TABLE audit_index")
            self.reset_index()
        newest = self.last_seq()
        if self.indexed_seq() > newest:
            # The side file belongs to another life of this database (a
            # restored backup): start the index again.
            self.reset_index()

    def _checkpoint_loop(self) -> None:
        """PASSIVE checkpoints never block the appending connection."""
        conn = self._new(self.path, "FULL")
        try:
            while not self._closed:
                # Busy or closing: the next round tries again.
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                time.sleep(_CHECKPOINT_EVERY)
        finally:
            conn.close()

    # -- hooks -------------------------------------------------------------------

    @staticmethod
    def _flag(value: bool) -> Any:
        return 1 if value else 0

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        return list(self._conn("reader").execute(sql, tuple(params)).fetchall())

    def _events_txn(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> int:
        changed = 0
        with sqlite_transaction(self._conn("plain"), "BEGIN IMMEDIATE") as conn:
            for sql, params in statements:
                changed = conn.execute(sql, tuple(params)).rowcount
        return changed

    def _index_work(self, work: Callable[[Any], T]) -> T:
        # BEGIN IMMEDIATE would lock the attached events file too; the
        # first write takes the side file's lock (and only that one)
        # before anything in it has been read.
        with sqlite_transaction(self._conn("indexer"), "BEGIN") as conn:
            conn.execute("UPDATE audit_meta SET value = value WHERE name = 'indexed_seq'")
            return work(conn)

    # -- appends -----------------------------------------------------------------

    def append(self, rows: Sequence[AuditRow], recorded_at_us: int) -> AppendResult:
        """Appends from every process queue on an flock first.

        SQLite's own busy handler waits by sleeping (1, 2, 5, 10 ms...), so
        two workers' writer processes taking turns on the write lock would
        add milliseconds to every batch; a blocking flock hands over the
        moment the holder is done.
        """
        result = self._locked_append(rows, recorded_at_us, wait=True)
        assert result is not None  # a waiting append never finds the lock taken
        return result

    def try_append(self, rows: Sequence[AuditRow], recorded_at_us: int) -> AppendResult | None:
        """:meth:`append`, or None at once if another writer holds the lock.

        For event loops: blocking on the lock put the worker to sleep and
        woke it again for every batch that met another worker's (two
        context switches, measured at tens of microseconds a request);
        a loop that finds the lock taken serves other requests and tries
        again, with a bigger batch."""
        return self._locked_append(rows, recorded_at_us, wait=False)

    def _locked_append(
        self, rows: Sequence[AuditRow], recorded_at_us: int, *, wait: bool
    ) -> AppendResult | None:
        if not self._append_mutex.acquire(blocking=wait):
            return None
        try:
            try:
                fcntl.flock(self._append_lock_fd(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                return None
            try:
                return self._append(rows, recorded_at_us)
            finally:
                fcntl.flock(self._append_lock_fd(), fcntl.LOCK_UN)
        finally:
            self._append_mutex.release()

    def _append_lock_fd(self) -> int:
        if self._lock_fd is None or self._lock_pid != current_pid():
            self._lock_fd = os.open(
                f"{self.path}.audit-append.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
            self._lock_pid = current_pid()
        return self._lock_fd

    def _append(self, rows: Sequence[AuditRow], recorded_at_us: int) -> AppendResult:
        """Usually ONE statement per batch, whatever its size.

        Every statement releases and re-takes the GIL, and while the event
        loop thread is busy each re-take can wait for the interpreter's
        switch interval. So a batch of events is one multi-row INSERT run
        as its own transaction; only batches with request entries take an
        explicit one. AUTOINCREMENT hands out sequence numbers, never
        reused, in commit order (writers hold the database write lock).
        """
        conn = self._conn("plain")
        result = AppendResult()
        intents = [r for r in rows if r.kind is RowKind.INTENT]
        events = [r for r in rows if r.kind is RowKind.EVENT]
        values = [_event_values(r, recorded_at_us) for r in events]
        simple = not intents and all(r.completes is None for r in events)
        if simple and len(values) <= _EVENTS_PER_STATEMENT:
            if values:
                _insert_many(conn, _INSERT_EVENTS, values)
            result.inserted = len(values)
            return result
        with sqlite_transaction(conn, "BEGIN IMMEDIATE"):
            if intents:
                _insert_many(
                    conn,
                    "INSERT OR REPLACE INTO audit_pending (event_id, recorded_at, row) VALUES ",
                    [(r.event_id, recorded_at_us, r.to_pending()) for r in intents],
                )
            completes = [r.completes for r in events if r.completes is not None]
            if completes:
                marks = ", ".join("?" * len(completes))
                removed = {
                    str(row[0])
                    for row in conn.execute(
                        f"DELETE FROM audit_pending WHERE event_id IN ({marks}) RETURNING event_id",
                        completes,
                    ).fetchall()
                }
                keep = [r.completes is None or r.completes in removed for r in events]
                result.duplicates = [r.event_id for r, k in zip(events, keep, strict=True) if not k]
                values = [v for v, k in zip(values, keep, strict=True) if k]
            _insert_many(conn, _INSERT_EVENTS, values)
            result.inserted = len(values)
        return result

    def close(self) -> None:
        if self._lock_fd is not None and self._lock_pid == current_pid():
            os.close(self._lock_fd)
            self._lock_fd = None
        with self._mutex:
            self._closed = True
            conns = list(self._conns)
            self._conns = weakref.WeakSet()
            self._local = threading.local()
        for conn in conns:
            conn.close()

    def __repr__(self) -> str:
        return f"SqliteAuditLog({self.path!r})"


# Stay well under SQLite's bound-parameter limit (32766 since 3.32).
_MAX_PARAMS = 30_000
_INSERT_EVENTS = (
    "INSERT INTO audit_events (event_id, account, region, event_time, recorded_at, "
    "read_only, attrs, body) VALUES "
)
_EVENTS_PER_STATEMENT = _MAX_PARAMS // 8


def _event_values(row: AuditRow, recorded_at_us: int) -> tuple[Any, ...]:
    return (
        row.event_id,
        row.account,
        row.region,
        row.event_time_us,
        recorded_at_us,
        1 if row.read_only else 0,
        attrs_json(row),
        row.body,
    )


def _insert_many(conn: sqlite3.Connection, head: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """``head`` + ``(?, ...), (?, ...)``, as many rows per statement as fit."""
    if not rows:
        return
    width = len(rows[0])
    per = max(1, _MAX_PARAMS // width)
    one = "(" + ", ".join("?" * width) + ")"
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        params = [value for row in chunk for value in row]
        conn.execute(head + ", ".join([one] * len(chunk)), params)
