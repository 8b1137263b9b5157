"""The audit spool: sealed audit rows appended to plain files, moved into the
database in bulk (SQLite servers).

Why: every worker appending its own small batches to the one SQLite file
was the largest part of what auditing cost (measured at ~29 µs per event
with two workers: each commit takes the database's write lock, re-reads the
pages the other worker changed and writes whole pages to the WAL, and the
workers queue for the lock). Here a worker's batch is ONE ``write`` to a
file only that worker appends to: no lock, no page, no waiting. The
audit indexer process (and any reader, first) moves what the spool holds
into ``audit_events`` in large transactions, where an event costs a few
microseconds (:meth:`strongroom.audit.sqlite_log.SqliteAuditLog.ingest`).

What a returned :meth:`SpoolWriter.write` means is what an append with
``audit_sync=normal`` meant: the batch is in the operating system's
cache, so it survives the process being killed. The rest of the guarantee
(docs/design/audit.md) is kept by syncing: a batch holding a request entry
(a mutating call, about to change something) is flushed to disk, and so is
every other spool file, before the call goes on, so no change can reach the
disk ahead of an event recorded before it. With ``audit_sync=full`` every
batch is flushed.

File format: frames ``magic, payload length, CRC-32 of the payload,
recorded_at (µs)`` then the payload, one frame per batch. One writer per
file, which holds an exclusive ``flock`` on it for as long as it may
write: a file nobody holds is finished (its writer closed it or died), and
a frame cut short at its end was never acknowledged (its requests failed
with the process) and is dropped.

The payload (``SRA2``): the length of a ``marshal``-ed table of the rows'
fields, the table, then the rows' sealed bodies one after the other.
``marshal`` because encoding and decoding the fields is then C, not a
Python loop over each field (measured with 16-row frames: 2.3 -> 1.1 µs
per row to write, 3.0 -> 1.2 µs to read, against ``SRA1``'s packed
lengths; bodies stay outside the table so that the mover binds them as
slices of the bytearray it read, which sqlite3 takes without its adapter
lookup). Only our
own writers produce these files, in a 0700 directory, and a frame is
read only once its CRC matches; the table is only tuples of text and
integers, and anything else is treated as damage. Files in ``SRA1``
(written before) are still read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import marshal
import os
import struct
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from strongroom.audit.log import ATTRIBUTE_CODES, AuditRow, RowKind
from strongroom.audit.sql_log import attrs_json
from strongroom.forksafe import current_pid
from strongroom.fsutil import fsync_dir

log = logging.getLogger("strongroom.audit")

MAGIC = b"SRA2"
MAGIC_V1 = b"SRA1"  # packed lengths: read, no longer written
_HEADER = struct.Struct("<4sIIq")  # magic, payload length, crc32, recorded_at_us
_TABLE_LENGTH = struct.Struct("<I")
# SRA1, per row: kind, read_only, event_time_us, then the lengths of
# event_id, account, region, attrs (JSON), completes (empty for None) and body.
_ROW_V1 = struct.Struct("<BBqHHHIHI")
_INTENT, _EVENT = 0, 1
_KIND_OF = {_INTENT: RowKind.INTENT, _EVENT: RowKind.EVENT}
_MARSHAL_VERSION = 4  # the current one since Python 3.4
SUFFIX = ".spool"
# A finished file that could not be read in full is renamed with this
# suffix (never read again, kept for an operator).
DAMAGED_SUFFIX = ".damaged"
# A writer starts a new file past this size, so that finished ones can be
# deleted once they are in the database.
ROLL_BYTES = 64 << 20


# The attrs column per attrs tuple: one client's events repeat it. Keyed
# by the tuple's id (the record builder caches those tuples; hashing one by
# value cost as much as encoding it), which the entry holds so that the id
# cannot be reused while cached.
_attrs_columns: dict[int, tuple[tuple[tuple[str, str], ...], str]] = {}
_ATTRS_COLUMNS_MAX = 10_000


def encode(rows: Sequence[AuditRow], recorded_at_us: int) -> bytes:
    """One frame holding ``rows`` (bodies already sealed).

    The table: whether every row is a plain event (an event completing no
    request entry: the mover's fast path), then per row its kind,
    event_id, account, region, event_time, read_only (0/1), attrs column,
    completes (None for none) and the length of its body."""
    table: list[tuple[Any, ...]] = []
    add = table.append
    plain = True
    intent = RowKind.INTENT
    columns = _attrs_columns
    for r in rows:
        kind = _INTENT if r.kind is intent else _EVENT
        completes = r.completes
        if kind == _INTENT or completes is not None:
            plain = False
        attrs = r.attrs_column
        if attrs is None:
            hit = columns.get(id(r.attrs))
            if hit is not None and hit[0] is r.attrs:
                attrs = hit[1]
            else:
                attrs = attrs_json(r)
                if len(columns) >= _ATTRS_COLUMNS_MAX:
                    columns.clear()
                columns[id(r.attrs)] = (r.attrs, attrs)
        add(
            (
                kind,
                r.event_id,
                r.account,
                r.region,
                r.event_time_us,
                1 if r.read_only else 0,
                attrs,
                completes,
                len(r.body),
            )
        )
    packed = marshal.dumps((plain, table), _MARSHAL_VERSION)
    payload = b"".join([_TABLE_LENGTH.pack(len(packed)), packed, *[r.body for r in rows]])
    return _HEADER.pack(MAGIC, len(payload), zlib.crc32(payload), recorded_at_us) + payload


# One row as stored: kind code, event_id, account, region, event_time,
# read_only (0/1), attrs column, completes (None for none), sealed body.
_Fields = tuple[int, str, str, str, int, int, str, str | None, bytes | bytearray]
# The events table's values of one event: event_id, account, region,
# event_time, recorded_at, read_only, attrs, body.
EventValues = tuple[str, str, str, int, int, int, str, bytes | bytearray]


def _read_table(payload: bytes | bytearray) -> tuple[bool, list[tuple[Any, ...]], int]:
    """An SRA2 payload's (plain, row table, offset of the first body)."""
    (n_table,) = _TABLE_LENGTH.unpack_from(payload, 0)
    start = _TABLE_LENGTH.size + n_table
    plain, table = marshal.loads(payload[_TABLE_LENGTH.size : start])
    if type(plain) is not bool or type(table) is not list:
        raise ValueError("not a row table")
    return plain, table, start


def _plain_event_values(
    payload: bytes | bytearray, table: list[tuple[Any, ...]], pos: int, recorded_at_us: int
) -> list[EventValues]:
    """The events table's values of a frame of plain events (the mover's
    fast path: one tuple per event, no AuditRow). They are bound to the
    table as they are, so their types are checked here: anything else is
    damage, not a stored row."""
    out: list[EventValues] = []
    add = out.append
    for _, event_id, account, region, at, read_only, attrs, _, n_body in table:
        if not (
            type(event_id) is str
            and type(account) is str
            and type(region) is str
            and type(at) is int
            and type(read_only) is int
            and type(attrs) is str
        ):
            raise TypeError("a plain event's fields are not text and integers")
        end = pos + n_body
        add((event_id, account, region, at, recorded_at_us, read_only, attrs, payload[pos:end]))
        pos = end
    if pos != len(payload):
        raise ValueError("rows overrun their frame")
    return out


def _fields_v2(payload: bytes | bytearray, table: list[tuple[Any, ...]], pos: int) -> list[_Fields]:
    out: list[_Fields] = []
    for kind, event_id, account, region, at, read_only, attrs, completes, n_body in table:
        end = pos + n_body
        out.append(
            (kind, event_id, account, region, at, read_only, attrs, completes, payload[pos:end])
        )
        pos = end
    if pos != len(payload):
        raise ValueError("rows overrun their frame")
    return out


def _fields_v1(payload: bytes | bytearray) -> list[_Fields]:
    out: list[_Fields] = []
    unpack, size, end = _ROW_V1.unpack_from, _ROW_V1.size, len(payload)
    pos = 0
    while pos < end:
        kind, read_only, at, n_id, n_acct, n_region, n_attrs, n_completes, n_body = unpack(
            payload, pos
        )
        p1 = pos + size + n_id
        p2 = p1 + n_acct
        p3 = p2 + n_region
        p4 = p3 + n_attrs
        p5 = p4 + n_completes
        pos = p5 + n_body
        out.append(
            (
                kind,
                payload[p1 - n_id : p1].decode(),
                payload[p1:p2].decode(),
                payload[p2:p3].decode(),
                at,
                read_only,
                payload[p3:p4].decode(),
                payload[p4:p5].decode() if n_completes else None,
                payload[p5:pos],
            )
        )
    if pos != end:
        raise ValueError("rows overrun their frame")
    return out


def _decode_rows(fields: list[_Fields]) -> list[AuditRow]:
    rows: list[AuditRow] = []
    for kind, event_id, account, region, at, read_only, attrs, completes, body in fields:
        # attrs: the events table's column, as the writer computed it
        row = AuditRow(
            _KIND_OF[kind],
            str(event_id),
            str(account),
            str(region),
            int(at),
            read_only == 1,
            (),
            bytes(body),  # frames with request entries are rare: no need to bind fast
            None if completes is None else str(completes),
            str(attrs),
        )
        if row.kind is RowKind.INTENT:  # kept as JSON in the pending table: parsed
            row.attrs_column = None
            row.attrs = tuple(
                (str(a), str(v)) for a, v in json.loads(attrs) if a != ATTRIBUTE_CODES["EventId"]
            )
        rows.append(row)
    return rows


@dataclass
class Frame:
    recorded_at_us: int
    # Set when every row is a plain event (:func:`_plain_event_values`).
    event_values: list[EventValues] | None
    _rows: list[AuditRow] | None = None

    @property
    def rows(self) -> list[AuditRow]:
        if self._rows is None:
            assert self.event_values is not None  # otherwise decoded when parsed
            self._rows = _decode_rows(
                [(_EVENT, *v[:4], v[5], v[6], None, v[7]) for v in self.event_values]
            )
        return self._rows


@dataclass
class Parsed:
    frames: list[Frame]
    consumed: int  # bytes of whole, valid frames
    damaged: bool  # stopped at bytes that are not a valid frame (vs simply short)


def _frame(magic: bytes, payload: bytes | bytearray, recorded_at: int) -> Frame:
    if magic == MAGIC:
        plain, table, pos = _read_table(payload)
        if plain:
            return Frame(recorded_at, _plain_event_values(payload, table, pos, recorded_at))
        fields = _fields_v2(payload, table, pos)
    else:
        fields = _fields_v1(payload)
        if all(f[0] == _EVENT and f[7] is None for f in fields):
            return Frame(recorded_at, [(*f[1:5], recorded_at, *f[5:7], f[8]) for f in fields])
    # Other frames are decoded now: rows that do not decode are damage.
    return Frame(recorded_at, None, _decode_rows(fields))


def parse(data: bytes | bytearray) -> Parsed:
    """The whole frames at the start of ``data`` (bodies are slices of it:
    bytearrays from a bytearray)."""
    frames: list[Frame] = []
    pos = 0
    while len(data) - pos >= _HEADER.size:
        magic, length, crc, recorded_at = _HEADER.unpack_from(data, pos)
        if magic != MAGIC and magic != MAGIC_V1:
            return Parsed(frames, pos, True)
        end = pos + _HEADER.size + length
        if end > len(data):
            break  # still being written, or cut short by a dead writer
        payload = data[pos + _HEADER.size : end]
        if zlib.crc32(payload) != crc:
            return Parsed(frames, pos, True)
        try:
            frame = _frame(magic, payload, recorded_at)
        except (struct.error, ValueError, KeyError, TypeError, IndexError, EOFError):
            # Intact bytes that are not rows (a bug): damaged, like bad
            # bytes, rather than an error on every later move and lookup.
            return Parsed(frames, pos, True)
        frames.append(frame)
        pos = end
    return Parsed(frames, pos, False)


def spool_files(directory: str) -> list[str]:
    """The spool's files, oldest first within each writer (names sort by
    the writer's start time, then its generation)."""
    try:
        names = os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):  # nothing spooled (yet)
        return []
    return sorted(n for n in names if n.endswith(SUFFIX))


# A writer holds its next file within microseconds of creating it; an empty
# ``.new`` file nobody holds after this long was left by a writer that died
# in between (before anything was written to it).
ABANDONED_AFTER_SECONDS = 60.0
_NEW_SUFFIX = SUFFIX + ".new"


def remove_abandoned(directory: str, now: float | None = None) -> int:
    """Delete the empty, unheld ``*.spool.new`` files older than
    :data:`ABANDONED_AFTER_SECONDS`: they hold nothing; how many went."""
    try:
        names = [n for n in os.listdir(directory) if n.endswith(_NEW_SUFFIX)]
    except (FileNotFoundError, NotADirectoryError):
        return 0
    cutoff = (time.time() if now is None else now) - ABANDONED_AFTER_SECONDS
    removed = 0
    for name in names:
        path = os.path.join(directory, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            info = os.fstat(fd)
            if info.st_size == 0 and info.st_mtime < cutoff and is_finished(fd):
                os.unlink(path)
                removed += 1
        finally:
            os.close(fd)
    return removed


def is_finished(fd: int) -> bool:
    """No writer holds the file (ours is a read-only descriptor)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


class SpoolWriter:
    """One process's spool file. Not thread-safe: the event loop's thread
    writes (strongroom.audit.writer_inline)."""

    def __init__(self, directory: str, *, roll_bytes: int = ROLL_BYTES) -> None:
        self.directory = directory
        self._roll_bytes = roll_bytes
        self._fd: int | None = None
        self._name = ""
        self._pid = 0
        self._size = 0
        self._generation = 0
        self._started = 0

    def _current(self) -> int:
        if self._fd is None or self._pid != current_pid():
            if self._fd is not None:
                # Inherited across fork: this copy shares the parent's lock,
                # which would keep the parent's file "being written".
                os.close(self._fd)
            self._fd = None
            self._pid = current_pid()
            self._started = time.time_ns()
            self._generation = 0
            self._open_next()
        assert self._fd is not None
        return self._fd

    def _open_next(self) -> None:
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        self._generation += 1
        name = f"{self._started:020d}-{self._pid}-{self._generation:06d}{SUFFIX}"
        path = os.path.join(self.directory, name)
        # Locked under a name ingesters ignore, then renamed: a file they can
        # see is always either held by its writer or finished.
        fd = os.open(
            f"{path}.new", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o600
        )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # "being written": see is_finished
            os.rename(f"{path}.new", path)
            # The new name must survive a crash before anything in it counts.
            fsync_dir(self.directory)
        except BaseException:
            os.close(fd)
            raise
        previous, self._fd, self._size, self._name = self._fd, fd, 0, name
        if previous is not None:
            os.close(previous)  # finished: the ingester may now delete it

    def write(self, rows: Sequence[AuditRow], recorded_at_us: int, *, sync: bool) -> None:
        """Append one frame; with ``sync``, flush it and every other spool
        file to disk first. Raises OSError when it cannot."""
        fd = self._current()
        data = encode(rows, recorded_at_us)
        view = memoryview(data)
        try:
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except OSError:
            # Never leave part of a frame for the next one to follow.
            try:
                os.ftruncate(fd, self._size)
            except OSError:
                self._fd = None  # the next write starts a new file; this one
                os.close(fd)  # is finished, its cut frame dropped on ingest
            raise
        self._size += len(data)
        if sync:
            self.sync_all()
        if self._size >= self._roll_bytes:
            try:
                self._open_next()
            except OSError:  # the batch is written; rolling is tried again next time
                log.exception("could not start a new audit spool file in %s", self.directory)

    def sync_all(self) -> None:
        """Flush every spool file (ours and other workers') to disk."""
        if self._fd is not None:
            os.fdatasync(self._fd)
        synced = {self._name}
        while True:  # until no file appeared meanwhile (a writer rolled over)
            names = [n for n in spool_files(self.directory) if n not in synced]
            if not names:
                return
            for name in names:
                synced.add(name)
                with contextlib.suppress(FileNotFoundError):  # ingested and deleted
                    fd = os.open(os.path.join(self.directory, name), os.O_RDONLY | os.O_CLOEXEC)
                    try:
                        os.fdatasync(fd)
                    finally:
                        os.close(fd)

    def close(self) -> None:
        if self._fd is not None and self._pid == current_pid():
            os.close(self._fd)
        self._fd = None
