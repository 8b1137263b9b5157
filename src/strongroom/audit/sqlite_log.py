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
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from strongroom.audit.log import (
    AppendResult,
    AuditRow,
    LookupQuery,
    PendingIntent,
    RowKind,
    StoredEvent,
)
from strongroom.audit.spool import (
    DAMAGED_SUFFIX,
    EventValues,
    Frame,
    SpoolWriter,
    is_finished,
    parse,
    remove_abandoned,
    spool_files,
)
from strongroom.audit.sql_log import SqlAuditLog, Tables, attrs_json
from strongroom.forksafe import current_pid
from strongroom.storage.migrations import migrate_sqlite
from strongroom.storage.sqlite import sqlite_transaction

T = TypeVar("T")
log = logging.getLogger("strongroom.audit")

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
        self._ingest_mutex = threading.Lock()
        self._reported_damage: set[tuple[str, int]] = set()
        self._lock_fds: dict[str, int] = {}  # lock file suffix -> descriptor
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
        two processes taking turns on the write lock would add milliseconds
        to every batch; a blocking flock hands over the moment the holder
        is done.
        """
        with self._appending():
            return self._append(rows, recorded_at_us)

    @contextlib.contextmanager
    def _appending(self) -> Iterator[None]:
        """Hold the appenders' lock (this process's threads, then processes)."""
        with self._append_mutex:
            fd = self._append_lock_fd()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _append_lock_fd(self) -> int:
        return self._lock_file(".audit-append.lock")

    def _lock_file(self, suffix: str) -> int:
        """A descriptor of ``<database><suffix>``, for flock (per process)."""
        if self._lock_pid != current_pid():
            self._lock_fds, self._lock_pid = {}, current_pid()
        fd = self._lock_fds.get(suffix)
        if fd is None:
            fd = self._lock_fds[suffix] = os.open(
                f"{self.path}{suffix}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
        return fd

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
        simple = all(r.kind is RowKind.EVENT and r.completes is None for r in rows)
        if simple and len(rows) <= _ROWS_PER_STATEMENT:
            if rows:
                _insert_many(conn, _INSERT_EVENTS, [_event_values(r, recorded_at_us) for r in rows])
            return AppendResult(inserted=len(rows))
        with sqlite_transaction(conn, "BEGIN IMMEDIATE"):
            return _insert_rows(conn, [(r, recorded_at_us) for r in rows])

    # -- the spool (strongroom.audit.spool) ----------------------------------------

    @property
    def spool_dir(self) -> str:
        return f"{self.path}-audit-spool"

    def spool_writer(self) -> SpoolWriter:
        """This process's writer of spool files, for the inline writer."""
        return SpoolWriter(self.spool_dir)

    def ingest(self) -> int:
        """Move every whole batch the spool holds into the events table, in
        file order; how many rows. Exactly once: a file's offset advances
        in the transaction that inserts its rows. Ingesters (the indexer
        process, readers in any process) take turns on a lock file."""
        names = spool_files(self.spool_dir)
        if not names:
            return 0
        with self._ingest_mutex:
            fd = self._lock_file(".audit-ingest.lock")
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                moved = [self._ingest_file(name) for name in names]
                if any(deleted for _, deleted in moved):
                    # Only then can an offset have lost its file (a crash's
                    # leftovers go with the next deletion).
                    self._forget_spool_files()
                return sum(rows for rows, _ in moved)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _ingest_file(self, name: str) -> tuple[int, bool]:
        """(rows moved, whether the file left the spool)."""
        path = os.path.join(self.spool_dir, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:  # retired meanwhile
            return 0, False
        try:
            # Asked before reading: a file finished now has all its bytes.
            finished = is_finished(fd)
            size = os.fstat(fd).st_size
            rows = self._fetch("SELECT offset FROM audit_spool WHERE file = ?", (name,))
            offset = int(rows[0][0]) if rows else 0
            if offset == _RETIRED:  # moved in full; only the unlink was lost
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                return 0, True
            total = 0
            damaged = False
            while offset < size:
                parsed = parse(_read(fd, min(size - offset, _INGEST_BYTES), offset))
                if not parsed.frames and not parsed.damaged and size - offset > _INGEST_BYTES:
                    parsed = parse(_read(fd, size - offset, offset))  # one huge frame
                offset += parsed.consumed
                if parsed.frames:
                    total += self._ingest_frames(name, parsed.frames, offset)
                if parsed.damaged:
                    damaged = True
                    break
                if not parsed.frames:
                    break
            if damaged:
                self._set_aside(name, path, offset, finished)  # renamed away if finished
                return total, finished
            if finished:
                if offset < size:
                    # Its writer stopped in the middle of a batch, whose
                    # requests therefore failed with it.
                    log.warning(
                        "audit spool file %s: %d bytes of an unfinished batch dropped",
                        name,
                        size - offset,
                    )
                self._retire(name, path)
            return total, finished
        finally:
            os.close(fd)

    def _ingest_frames(self, name: str, frames: list[Frame], offset: int) -> int:
        moved = 0
        with self._appending(), sqlite_transaction(self._conn("plain"), "BEGIN IMMEDIATE") as conn:
            plain: list[EventValues] = []
            for frame in frames:  # in order: seq follows the spool
                if frame.event_values is not None:
                    plain += frame.event_values
                    continue
                _insert_many(conn, _INSERT_EVENTS, plain)
                moved += len(plain)
                plain = []
                items = [(row, frame.recorded_at_us) for row in frame.rows]
                _insert_rows(conn, items)
                moved += len(items)
            _insert_many(conn, _INSERT_EVENTS, plain)
            moved += len(plain)
            conn.execute(
                "INSERT INTO audit_spool (file, offset) VALUES (?, ?) "
                "ON CONFLICT (file) DO UPDATE SET offset = excluded.offset",
                (name, offset),
            )
        return moved

    def _set_aside(self, name: str, path: str, offset: int, finished: bool) -> None:
        """Bytes that are not a frame (a bug, or the disk): nothing after
        them is read. Once its writer is done the file is renamed out of
        the spool and kept for an operator; until then it is reported once."""
        if (name, offset) not in self._reported_damage:
            self._reported_damage.add((name, offset))
            log.error(
                "audit spool file %s is damaged at byte %d; the events after it are not "
                "moved into the database",
                name,
                offset,
            )
        if finished:
            os.replace(path, path + DAMAGED_SUFFIX)

    def _retire(self, name: str, path: str) -> None:
        """Delete a finished, ingested file once what came from it is on
        disk (one synchronous commit flushes the WAL up to it)."""
        conn = self._conn("plain")
        conn.execute("PRAGMA synchronous=FULL")
        try:
            with self._appending(), sqlite_transaction(conn, "BEGIN IMMEDIATE"):
                conn.execute(
                    "INSERT INTO audit_spool (file, offset) VALUES (?, ?) "
                    "ON CONFLICT (file) DO UPDATE SET offset = excluded.offset",
                    (name, _RETIRED),
                )
        finally:
            conn.execute(f"PRAGMA synchronous={self._append_sync}")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    def _forget_spool_files(self) -> None:
        """Offsets of files that are gone (retired) are dropped (ingesters
        hold the lock: no file appears under a name that had an offset),
        and so are the empty files of writers that died while starting one."""
        remove_abandoned(self.spool_dir)
        present = set(spool_files(self.spool_dir))
        gone = [
            str(r[0])
            for r in self._fetch("SELECT file FROM audit_spool", ())
            if r[0] not in present
        ]
        if gone:
            marks = ", ".join("?" * len(gone))
            self._events_txn([(f"DELETE FROM audit_spool WHERE file IN ({marks})", gone)])

    # -- reads see the spool ---------------------------------------------------------

    def lookup(self, query: LookupQuery) -> list[StoredEvent]:
        self.ingest()
        return super().lookup(query)

    def after(self, seq: int, limit: int) -> list[StoredEvent]:
        self.ingest()
        return super().after(seq, limit)

    def last_seq(self) -> int:
        self.ingest()
        return super().last_seq()

    def count(self) -> int:
        self.ingest()
        return super().count()

    def stale_intents(self, recorded_before_us: int, limit: int) -> list[PendingIntent]:
        self.ingest()
        return super().stale_intents(recorded_before_us, limit)

    def close(self) -> None:
        if self._lock_pid == current_pid():
            for fd in self._lock_fds.values():
                os.close(fd)
        self._lock_fds = {}
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
_ROWS_PER_STATEMENT = 256
# The offset of a spool file moved in full, whose file may be deleted.
_RETIRED = -1
# Spool bytes read per ingest transaction.
_INGEST_BYTES = 8 << 20


def _read(fd: int, size: int, offset: int) -> bytearray:
    """Up to ``size`` bytes of a spool file, as a bytearray: the bodies
    sliced from it are bytearrays too, which sqlite3 binds as they are,
    where a ``bytes`` value first goes through its adapter lookup, which
    fails by raising AttributeError (an insert of an event measured 1.7 µs
    with a bytes body, 0.7 µs with a bytearray)."""
    buf = bytearray(size)
    del buf[os.preadv(fd, [buf], offset) :]
    return buf


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


def _insert_rows(conn: sqlite3.Connection, items: Sequence[tuple[AuditRow, int]]) -> AppendResult:
    """Rows with their recorded_at, inside the caller's transaction:
    request entries to the pending table, events to the events table (an
    event completing an entry only if it removed that entry)."""
    result = AppendResult()
    intents = [(r, at) for r, at in items if r.kind is RowKind.INTENT]
    events = [(r, at) for r, at in items if r.kind is RowKind.EVENT]
    if intents:
        _insert_many(
            conn,
            "INSERT OR REPLACE INTO audit_pending (event_id, recorded_at, row) VALUES ",
            [(r.event_id, at, r.to_pending()) for r, at in intents],
        )
    completes = [r.completes for r, _ in events if r.completes is not None]
    if completes:
        removed: set[str] = set()
        for start in range(0, len(completes), _MAX_PARAMS):
            chunk = completes[start : start + _MAX_PARAMS]
            marks = ", ".join("?" * len(chunk))
            removed.update(
                str(row[0])
                for row in conn.execute(
                    f"DELETE FROM audit_pending WHERE event_id IN ({marks}) RETURNING event_id",
                    chunk,
                ).fetchall()
            )
        kept = [(r, at) for r, at in events if r.completes is None or r.completes in removed]
        result.duplicates = [
            r.event_id for r, _ in events if r.completes and r.completes not in removed
        ]
        events = kept
    _insert_many(conn, _INSERT_EVENTS, [_event_values(r, at) for r, at in events])
    result.inserted = len(events)
    return result


def _insert_many(conn: sqlite3.Connection, head: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """``head`` + ``(?, ...), (?, ...)``, as many rows per statement as fit."""
    if not rows:
        return
    width = len(rows[0])
    # A few hundred rows per statement: full chunks share one prepared
    # statement, and longer ones were measured slower per row.
    per = max(1, min(_ROWS_PER_STATEMENT, _MAX_PARAMS // width))
    one = "(" + ", ".join("?" * width) + ")"
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        params = [value for row in chunk for value in row]
        conn.execute(head + ", ".join([one] * len(chunk)), params)
