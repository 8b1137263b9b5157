"""The spool file format and its writer (strongroom.audit.spool)."""

from __future__ import annotations

import errno
import marshal
import os
import stat
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from strongroom.audit import spool
from strongroom.audit.log import AuditRow, RowKind
from strongroom.audit.spool import SpoolWriter, encode, is_finished, parse, spool_files
from strongroom.audit.sql_log import attrs_json

BASE_US = 1_714_564_800_000_000  # as in conftest.py


def _frames(path: str) -> list[list[str]]:
    """The event ids of each frame in a spool file."""
    with open(path, "rb") as f:
        parsed = parse(f.read())
    assert not parsed.damaged
    return [[r.event_id for r in frame.rows] for frame in parsed.frames]


def _finished(path: str) -> bool:
    fd = os.open(path, os.O_RDONLY)
    try:
        return is_finished(fd)
    finally:
        os.close(fd)


# -- format -----------------------------------------------------------------------


def test_encode_then_parse_gives_back_every_field(make_row: Callable[..., AuditRow]) -> None:
    intent = make_row(kind=RowKind.INTENT, read_only=False, user="zoë", region="ap-south-1")
    done = make_row(
        event_id=intent.event_id,
        completes=intent.event_id,
        read_only=False,
        user="日本語",
        extra=(("m", 'quote " and \\ backslash'),),
        body=bytes(range(256)),  # bodies are sealed: any bytes
    )
    plain = make_row()
    parsed = parse(encode([intent, done, plain], BASE_US + 7))
    assert not parsed.damaged
    (frame,) = parsed.frames
    assert frame.recorded_at_us == BASE_US + 7
    for got, want in zip(frame.rows, [intent, done, plain], strict=True):
        assert (got.kind, got.event_id, got.account, got.region) == (
            want.kind,
            want.event_id,
            want.account,
            want.region,
        )
        assert (got.event_time_us, got.read_only, got.body) == (
            want.event_time_us,
            want.read_only,
            want.body,
        )
        assert got.completes == want.completes  # None stays None
    # Intents go to the pending table as JSON: their attrs come back parsed.
    assert frame.rows[0].attrs == intent.attrs and frame.rows[0].attrs_column is None
    # Events carry the events table's attrs column exactly as the writer
    # computed it (so the ingester never rebuilds it).
    assert frame.rows[1].attrs_column == attrs_json(done)
    assert frame.rows[2].attrs_column == attrs_json(plain)


def test_a_frame_of_plain_events_parses_straight_to_the_events_table_values(
    make_row: Callable[..., AuditRow],
) -> None:
    first, second = make_row(read_only=False, body=b"\x00sealed"), make_row(region="eu-west-1")
    (frame,) = parse(encode([first, second], BASE_US + 9)).frames
    assert frame.event_values == [
        (
            r.event_id,
            r.account,
            r.region,
            r.event_time_us,
            BASE_US + 9,
            int(r.read_only),
            attrs_json(r),
            r.body,
        )
        for r in (first, second)
    ]
    # The rows view of the same frame agrees with it.
    assert [(r.kind, r.event_id, r.read_only, r.body, r.attrs_column) for r in frame.rows] == [
        (RowKind.EVENT, r.event_id, r.read_only, r.body, attrs_json(r)) for r in (first, second)
    ]
    # A request entry, or an event completing one, takes the general path.
    intent = make_row(kind=RowKind.INTENT)
    done = make_row(completes=intent.event_id)
    for rows in ([first, intent], [done, first]):
        (frame,) = parse(encode(rows, BASE_US)).frames
        assert frame.event_values is None
        assert [r.event_id for r in frame.rows] == [r.event_id for r in rows]


def test_parse_stops_at_a_short_tail_without_calling_it_damage(
    make_row: Callable[..., AuditRow],
) -> None:
    first = encode([make_row()], BASE_US)
    second = encode([make_row(), make_row()], BASE_US)
    # Cut inside the payload, then inside the header: both are a frame
    # still being written (or never finished), not damage.
    for tail in (second[:-3], second[:5]):
        parsed = parse(first + tail)
        assert (len(parsed.frames), parsed.consumed, parsed.damaged) == (1, len(first), False)
    assert parse(b"").frames == []


def test_parse_reports_damage_at_a_bad_magic(make_row: Callable[..., AuditRow]) -> None:
    first = encode([make_row()], BASE_US)
    second = encode([make_row()], BASE_US)
    parsed = parse(first + b"XXXX" + second[4:])
    assert (len(parsed.frames), parsed.consumed, parsed.damaged) == (1, len(first), True)


def test_parse_reports_damage_at_a_bad_checksum(make_row: Callable[..., AuditRow]) -> None:
    first = encode([make_row()], BASE_US)
    second = bytearray(encode([make_row()], BASE_US))
    second[-1] ^= 0xFF  # one flipped bit in the payload
    parsed = parse(first + bytes(second))
    assert (len(parsed.frames), parsed.consumed, parsed.damaged) == (1, len(first), True)


# -- the writer ---------------------------------------------------------------------


def test_a_writer_holds_its_file_until_closed(
    tmp_path: Path, make_row: Callable[..., AuditRow]
) -> None:
    writer = SpoolWriter(str(tmp_path))
    row = make_row()
    writer.write([row], BASE_US, sync=False)
    (name,) = spool_files(str(tmp_path))
    path = str(tmp_path / name)
    # Held: an ingester must neither retire it nor drop its tail.
    assert not _finished(path)
    writer.close()
    assert _finished(path)
    assert _frames(path) == [[row.event_id]]


def test_a_writer_rolls_to_new_files_that_sort_in_write_order(
    tmp_path: Path, make_row: Callable[..., AuditRow]
) -> None:
    writer = SpoolWriter(str(tmp_path), roll_bytes=1)  # every frame fills a file
    rows = [make_row() for _ in range(3)]
    for row in rows:
        writer.write([row], BASE_US, sync=False)
    names = spool_files(str(tmp_path))
    # One file per frame, then the empty file the last roll opened.
    assert len(names) == 4
    paths = [str(tmp_path / n) for n in names]
    assert [_frames(p) for p in paths] == [[[r.event_id]] for r in rows] + [[]]
    # Rolled-over files are finished (deletable once ingested); the current one is not.
    assert [_finished(p) for p in paths] == [True, True, True, False]
    writer.close()


def test_a_failed_write_leaves_no_part_of_its_frame(
    tmp_path: Path, make_row: Callable[..., AuditRow], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = SpoolWriter(str(tmp_path))
    first = make_row()
    writer.write([first], BASE_US, sync=False)
    (name,) = spool_files(str(tmp_path))
    size = os.path.getsize(tmp_path / name)
    real_write = os.write
    calls = 0

    def half_then_fail(fd: int, data: bytes) -> int:
        # Half the frame reaches the file, then the disk fills up.
        nonlocal calls
        calls += 1
        if calls == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("strongroom.audit.spool.os.write", half_then_fail)
    with pytest.raises(OSError):
        writer.write([make_row(), make_row()], BASE_US, sync=False)
    monkeypatch.undo()
    assert calls == 2
    assert os.path.getsize(tmp_path / name) == size
    # The next frame follows the last whole one directly.
    second = make_row()
    writer.write([second], BASE_US, sync=False)
    writer.close()
    assert _frames(str(tmp_path / name)) == [[first.event_id], [second.event_id]]


def test_a_write_whose_rollback_fails_gives_the_file_up(
    tmp_path: Path, make_row: Callable[..., AuditRow], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = SpoolWriter(str(tmp_path))
    first = make_row()
    writer.write([first], BASE_US, sync=False)
    real_write = os.write

    def half_then_fail(fd: int, data: bytes) -> int:
        if len(data) > 10:
            return real_write(fd, bytes(data[:10]))
        raise OSError(errno.EIO, "I/O error")

    def no_truncate(fd: int, length: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr("strongroom.audit.spool.os.write", half_then_fail)
    monkeypatch.setattr("strongroom.audit.spool.os.ftruncate", no_truncate)
    with pytest.raises(OSError):
        writer.write([make_row()], BASE_US, sync=False)
    monkeypatch.undo()
    # The cut frame cannot be removed: the file is released (finished, so
    # the ingester drops the cut frame) and the next write starts another.
    (old,) = spool_files(str(tmp_path))
    assert _finished(str(tmp_path / old))
    second = make_row()
    writer.write([second], BASE_US, sync=False)
    names = spool_files(str(tmp_path))
    assert len(names) == 2 and names[0] == old
    assert _frames(str(tmp_path / names[1])) == [[second.event_id]]
    writer.close()


def test_sync_all_flushes_every_writers_files(
    tmp_path: Path, make_row: Callable[..., AuditRow], monkeypatch: pytest.MonkeyPatch
) -> None:
    writers = [SpoolWriter(str(tmp_path)) for _ in range(3)]
    for w in writers:
        w.write([make_row()], BASE_US, sync=False)
    writers[1].close()  # a finished file is still flushed
    synced: list[int] = []
    real = os.fdatasync

    def fdatasync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real(fd)

    monkeypatch.setattr("strongroom.audit.spool.os.fdatasync", fdatasync)
    writers[0].write([make_row()], BASE_US, sync=True)
    inodes = {os.stat(tmp_path / n).st_ino for n in spool_files(str(tmp_path))}
    assert len(inodes) == 3 and set(synced) == inodes
    for w in writers:
        w.close()


def test_sync_all_skips_a_file_deleted_while_listing(
    tmp_path: Path, make_row: Callable[..., AuditRow], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = SpoolWriter(str(tmp_path))
    writer.write([make_row()], BASE_US, sync=False)
    real = spool.spool_files
    # An ingester retires a listed file before it is opened.
    monkeypatch.setattr(spool, "spool_files", lambda d: [*real(d), "0-1-000001.spool"])
    writer.sync_all()
    writer.close()


def test_files_are_private_to_the_owner(tmp_path: Path, make_row: Callable[..., AuditRow]) -> None:
    directory = tmp_path / "db-audit-spool"  # created by the first write
    writer = SpoolWriter(str(directory))
    writer.write([make_row()], BASE_US, sync=False)
    writer.close()
    (name,) = spool_files(str(directory))
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(directory / name).st_mode) == 0o600


def test_parse_reports_damage_for_intact_bytes_that_are_not_rows() -> None:
    # A frame whose checksum is right but whose payload does not decode
    # (an encoder bug) stops the parse like bad bytes do, instead of raising.
    payload = b"\x07" * 10  # too short for a row header
    frame = struct.pack("<4sIIq", spool.MAGIC, len(payload), zlib.crc32(payload), 1) + payload
    parsed = parse(frame)
    assert (parsed.frames, parsed.consumed, parsed.damaged) == ([], 0, True)


def _frame_of(magic: bytes, payload: bytes, recorded_at: int = 1) -> bytes:
    return struct.pack("<4sIIq", magic, len(payload), zlib.crc32(payload), recorded_at) + payload


def _table_frame(table: object) -> bytes:
    packed = marshal.dumps(table, 4)
    return _frame_of(spool.MAGIC, struct.pack("<I", len(packed)) + packed)


@pytest.mark.parametrize(
    "table",
    [
        ["not", "a", "pair"],  # not (plain, rows)
        (True, ("rows", "as", "a", "tuple")),
        (1, []),  # the flag is not a bool
        (True, [(1, "id", "acct", "region", 5, 1, "[]", None)]),  # a field short
        (True, [(1, None, "acct", "region", 5, 1, "[]", None, 0)]),  # id not text
        (True, [(1, "id", "acct", "region", "5", 1, "[]", None, 0)]),  # time not an int
        (True, [(1, "id", "acct", "region", 5, 1, "[]", None, 9)]),  # body past the frame
        (False, [(7, "id", "acct", "region", 5, 1, "[]", None, 0)]),  # no such kind
    ],
)
def test_a_checksummed_table_that_is_not_rows_is_damage(table: object) -> None:
    parsed = parse(_table_frame(table))
    assert (parsed.frames, parsed.consumed, parsed.damaged) == ([], 0, True)
    # Garbage in place of the marshalled table too.
    garbage = _frame_of(spool.MAGIC, struct.pack("<I", 3) + b"\xff\x00\x01")
    assert parse(garbage).damaged


def _encode_v1(rows: list[AuditRow], recorded_at_us: int) -> bytes:
    """A frame as SRA1 wrote it (packed lengths), for files left by an
    earlier version."""
    payload = b""
    for r in rows:
        event_id, account, region = r.event_id.encode(), r.account.encode(), r.region.encode()
        attrs, completes = attrs_json(r).encode(), (r.completes or "").encode()
        payload += struct.pack(
            "<BBqHHHIHI",
            0 if r.kind is RowKind.INTENT else 1,
            r.read_only,
            r.event_time_us,
            len(event_id),
            len(account),
            len(region),
            len(attrs),
            len(completes),
            len(r.body),
        )
        payload += event_id + account + region + attrs + completes + r.body
    return _frame_of(spool.MAGIC_V1, payload, recorded_at_us)


def test_frames_in_the_earlier_format_are_still_read(make_row: Callable[..., AuditRow]) -> None:
    plain = [make_row(), make_row(region="eu-west-1", body=bytes(range(256)))]
    intent = make_row(kind=RowKind.INTENT, read_only=False)
    done = make_row(completes=intent.event_id, read_only=False)
    # An old frame, then one in today's format: a file an upgrade left.
    old_plain = _encode_v1(plain, BASE_US + 1)
    old_mixed = _encode_v1([intent, done], BASE_US + 2)
    parsed = parse(old_plain + old_mixed + encode(plain, BASE_US + 3))
    assert not parsed.damaged
    first, second, third = parsed.frames
    assert first.event_values == parse(encode(plain, BASE_US + 1)).frames[0].event_values
    assert first.event_values == [
        (r.event_id, r.account, r.region, r.event_time_us, BASE_US + 1, 1, attrs_json(r), r.body)
        for r in plain
    ]
    assert second.event_values is None
    assert [(r.kind, r.event_id, r.completes) for r in second.rows] == [
        (RowKind.INTENT, intent.event_id, None),
        (RowKind.EVENT, done.event_id, intent.event_id),
    ]
    assert second.rows[0].attrs == intent.attrs
    assert [r.event_id for r in third.rows] == [r.event_id for r in plain]
