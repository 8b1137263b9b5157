"""Moving the spool into the SQLite audit tables (SqliteAuditLog.ingest)."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from strongroom.audit import spool
from strongroom.audit.log import AuditRow, LookupQuery, RowKind
from strongroom.audit.spool import SpoolWriter, encode, spool_files
from strongroom.audit.sqlite_log import SqliteAuditLog
from strongroom.storage.sqlite import SqliteStore

BASE_US = 1_714_564_800_000_000  # as in conftest.py
ACCOUNT = "111122223333"


def _open(path: Path) -> SqliteAuditLog:
    if not path.exists():
        SqliteStore(str(path)).close()  # the store runs the migrations
    return SqliteAuditLog(str(path))


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[Callable[..., SqliteAuditLog]]:
    """Opens SqliteAuditLogs (default: tmp_path/audit.db), closed afterwards."""
    opened: list[SqliteAuditLog] = []

    def make(name: str = "audit.db") -> SqliteAuditLog:
        log = _open(tmp_path / name)
        opened.append(log)
        return log

    yield make
    for log in opened:
        log.close()


@pytest.fixture
def audit(logs: Callable[..., SqliteAuditLog]) -> SqliteAuditLog:
    return logs()


def _stored(log: SqliteAuditLog) -> int:
    """Events in the table, without ingesting first (unlike count())."""
    return int(log._fetch("SELECT count(*) FROM audit_events", ())[0][0])


def _offsets(log: SqliteAuditLog) -> dict[str, int]:
    return {str(f): int(o) for f, o in log._fetch("SELECT file, offset FROM audit_spool", ())}


def _all(log: SqliteAuditLog) -> list[str]:
    return [e.event_id for e in log.after(0, 1000)]


def _ids(rows: list[AuditRow]) -> list[str]:
    return [r.event_id for r in rows]


# -- reads see the spool ------------------------------------------------------------

READS: dict[str, Callable[[SqliteAuditLog], Any]] = {
    "count": lambda log: log.count(),
    "after": lambda log: len(log.after(0, 100)),
    "lookup": lambda log: len(log.lookup(LookupQuery(ACCOUNT, "us-east-1"))),
    "last_seq": lambda log: log.last_seq(),
}


@pytest.mark.parametrize("read", READS)
def test_spooled_events_reach_the_table_when_read(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow], read: str
) -> None:
    writer = audit.spool_writer()
    writer.write([make_row(), make_row()], BASE_US, sync=False)
    assert _stored(audit) == 0  # written to the spool only
    # Every public read moves the spool in first, so it misses nothing.
    assert READS[read](audit) == 2
    assert _stored(audit) == 2
    writer.close()


def test_stale_intents_sees_spooled_intents(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow]
) -> None:
    writer = audit.spool_writer()
    intent = make_row(kind=RowKind.INTENT, read_only=False)
    writer.write([intent], BASE_US, sync=True)
    pending = audit.stale_intents(BASE_US + 1, 10)
    assert [p.row.event_id for p in pending] == [intent.event_id]
    assert pending[0].recorded_at_us == BASE_US
    assert pending[0].row.attrs == intent.attrs
    writer.close()


def test_lookup_by_attribute_uses_the_spooled_attrs(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow]
) -> None:
    writer = audit.spool_writer()
    bob = make_row(user="bob")
    writer.write([make_row(user="alice"), bob], BASE_US, sync=False)
    found = audit.lookup(LookupQuery(ACCOUNT, "us-east-1", attribute="Username", value="bob"))
    assert [e.event_id for e in found] == [bob.event_id]
    audit.index_pending()  # and the index built from the attrs column agrees
    found = audit.lookup(LookupQuery(ACCOUNT, "us-east-1", attribute="Username", value="bob"))
    assert [e.event_id for e in found] == [bob.event_id]
    writer.close()


# -- exactly once --------------------------------------------------------------------


def test_ingest_moves_each_frame_exactly_once(
    audit: SqliteAuditLog, logs: Callable[..., SqliteAuditLog], make_row: Callable[..., AuditRow]
) -> None:
    writer = audit.spool_writer()
    first = [make_row() for _ in range(3)]
    writer.write(first, BASE_US, sync=False)
    assert audit.ingest() == 3
    assert audit.ingest() == 0
    # Another process (a new log on the same file) continues from the
    # offset stored with the rows, not from the start of the file.
    other = logs()
    assert other.ingest() == 0
    later = make_row()
    writer.write([later], BASE_US, sync=False)
    assert other.ingest() == 1
    assert audit.ingest() == 0
    assert _all(audit) == _ids([*first, later])
    writer.close()


def test_sequence_numbers_follow_the_order_of_frames_and_files(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow]
) -> None:
    # Rolls after every frame: three files, ingested in one go.
    writer = SpoolWriter(audit.spool_dir, roll_bytes=1)
    batches = [[make_row(), make_row()], [make_row()], [make_row(), make_row()]]
    for batch in batches:
        writer.write(batch, BASE_US, sync=False)
    events = audit.after(0, 100)
    assert [e.event_id for e in events] == [r.event_id for b in batches for r in b]
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    writer.close()


# -- intents ---------------------------------------------------------------------------


def test_an_intent_and_its_event_become_one_event(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow]
) -> None:
    writer = audit.spool_writer()
    intent = make_row(kind=RowKind.INTENT, read_only=False, body=b"intent")
    done = make_row(
        event_id=intent.event_id, completes=intent.event_id, read_only=False, body=b"done"
    )
    writer.write([intent], BASE_US, sync=True)
    writer.write([done], BASE_US + 5, sync=False)
    assert audit.count() == 1
    assert audit.stale_intents(BASE_US + 10**9, 10) == []
    (event,) = audit.after(0, 10)
    assert (event.event_id, event.body, event.recorded_at_us) == (
        intent.event_id,
        b"done",
        BASE_US + 5,
    )
    writer.close()


def test_an_event_completing_an_intent_ingested_earlier(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow]
) -> None:
    writer = audit.spool_writer()
    intent = make_row(kind=RowKind.INTENT, read_only=False)
    writer.write([intent], BASE_US, sync=True)
    assert audit.count() == 0  # the intent is pending, not an event
    writer.write(
        [make_row(event_id=intent.event_id, completes=intent.event_id)], BASE_US, sync=False
    )
    assert audit.count() == 1
    assert audit.stale_intents(BASE_US + 10**9, 10) == []
    writer.close()


def test_a_completion_after_recovery_is_dropped_as_a_duplicate(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow]
) -> None:
    writer = audit.spool_writer()
    intent = make_row(kind=RowKind.INTENT)
    writer.write([intent], BASE_US, sync=True)
    # The recovery of abandoned intents removed the entry and stored its event...
    (stale,) = audit.stale_intents(BASE_US + 1, 10)
    recovered = make_row(event_id=intent.event_id, completes=intent.event_id, body=b"unknown")
    assert audit.append([recovered], BASE_US).inserted == 1
    # ...so the request's own event, spooled late, must not be stored again.
    late = make_row(event_id=intent.event_id, completes=intent.event_id, body=b"late")
    other = make_row()
    writer.write([late, other], BASE_US, sync=False)
    assert audit.ingest() == 2  # rows moved, whatever became of them
    assert _all(audit) == [intent.event_id, other.event_id]
    stored = audit.lookup(
        LookupQuery(ACCOUNT, "us-east-1", attribute="EventId", value=stale.row.event_id)
    )
    assert [e.body for e in stored] == [b"unknown"]
    writer.close()


# -- retiring files ------------------------------------------------------------------


def test_a_finished_file_is_deleted_and_a_live_one_kept(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow]
) -> None:
    done, live = audit.spool_writer(), audit.spool_writer()
    done.write([make_row()], BASE_US, sync=False)
    live.write([make_row()], BASE_US, sync=False)
    done_name, live_name = spool_files(audit.spool_dir)
    done.close()
    assert audit.ingest() == 2
    assert not os.path.exists(os.path.join(audit.spool_dir, done_name))
    # The finished file is in the database: deleted, and its offset forgotten.
    assert spool_files(audit.spool_dir) == [live_name]
    assert _offsets(audit) == {live_name: os.path.getsize(os.path.join(audit.spool_dir, live_name))}
    # The live one goes on being read from where the last ingest stopped.
    later = make_row()
    live.write([later], BASE_US, sync=False)
    assert audit.ingest() == 1
    assert _all(audit)[-1] == later.event_id
    live.close()
    audit.ingest()
    assert spool_files(audit.spool_dir) == [] and _offsets(audit) == {}


def test_a_cut_short_last_frame_of_a_finished_file_is_dropped(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow], caplog: pytest.LogCaptureFixture
) -> None:
    writer = audit.spool_writer()
    whole = [make_row(), make_row()]
    writer.write(whole[:1], BASE_US, sync=False)
    writer.write(whole[1:], BASE_US, sync=False)
    writer.close()
    # Its writer died in the middle of a write: that batch was never
    # acknowledged, so dropping it loses nothing anybody was told is stored.
    (name,) = spool_files(audit.spool_dir)
    cut = encode([make_row()], BASE_US)[:-7]
    with open(os.path.join(audit.spool_dir, name), "ab") as f:
        f.write(cut)
    with caplog.at_level(logging.WARNING, logger="strongroom.audit"):
        assert audit.ingest() == 2
    assert _all(audit) == _ids(whole)
    assert spool_files(audit.spool_dir) == []
    assert any(
        r.levelno == logging.WARNING and name in r.getMessage() and str(len(cut)) in r.getMessage()
        for r in caplog.records
    )


def test_ingest_stops_at_damaged_bytes_with_an_error(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow], caplog: pytest.LogCaptureFixture
) -> None:
    writer = audit.spool_writer()
    before = make_row()
    writer.write([before], BASE_US, sync=False)
    (name,) = spool_files(audit.spool_dir)
    path = os.path.join(audit.spool_dir, name)
    with open(path, "ab") as f:  # not a frame
        f.write(b"garbage that is longer than a frame header")
    writer.write([make_row()], BASE_US, sync=False)
    with caplog.at_level(logging.ERROR, logger="strongroom.audit"):
        assert audit.ingest() == 1
    assert _all(audit) == [before.event_id]
    assert any(r.levelno == logging.ERROR and name in r.getMessage() for r in caplog.records)
    # Nothing past the damage is read, and the file is kept for inspection.
    assert os.path.exists(path)
    writer.close()


def test_a_finished_damaged_file_is_set_aside_not_deleted(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow], caplog: pytest.LogCaptureFixture
) -> None:
    writer = audit.spool_writer()
    writer.write([make_row()], BASE_US, sync=False)
    (name,) = spool_files(audit.spool_dir)
    path = os.path.join(audit.spool_dir, name)
    with open(path, "ab") as f:
        f.write(b"garbage that is longer than a frame header")
    writer.write([make_row()], BASE_US, sync=False)  # a whole frame after the damage
    writer.close()
    with caplog.at_level(logging.ERROR, logger="strongroom.audit"):
        assert audit.ingest() == 1
        assert audit.ingest() == 0  # never read again,
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1  # reported once,
    assert spool_files(audit.spool_dir) == []
    assert os.path.exists(path + ".damaged")  # and kept, with what follows the damage


# -- several writers ------------------------------------------------------------------


def test_two_writers_are_both_ingested(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow]
) -> None:
    # Two writers in one process hold their files through separate open
    # file descriptions, as two worker processes would.
    one, two = audit.spool_writer(), audit.spool_writer()
    a, b, c = make_row(), make_row(), make_row()
    one.write([a], BASE_US, sync=False)
    two.write([b], BASE_US, sync=False)
    one.write([c], BASE_US, sync=True)
    assert len(spool_files(audit.spool_dir)) == 2
    assert sorted(_all(audit)) == sorted(_ids([a, b, c]))
    # Within one writer, order is kept.
    got = _all(audit)
    assert got.index(a.event_id) < got.index(c.event_id)
    one.close()
    two.close()


_CHILD = textwrap.dedent(
    """
    import sys
    from strongroom.audit.log import AuditRow, RowKind
    from strongroom.audit.spool import SpoolWriter

    writer = SpoolWriter(sys.argv[1])
    row = AuditRow(RowKind.EVENT, "from-child", "111122223333", "us-east-1", 1, True, (), b"{}")
    writer.write([row], 1, sync=False)
    print("written", flush=True)
    sys.stdin.read()  # until killed
    """
)


def test_the_file_of_a_killed_writer_process_is_finished_and_ingested(
    audit: SqliteAuditLog,
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, audit.spool_dir],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"written\n"
        (name,) = spool_files(audit.spool_dir)
        # Alive: its frame is ingested, but the file is still being written.
        assert audit.count() == 1
        assert spool_files(audit.spool_dir) == [name]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # Dead: nobody holds the file any more, so it is retired.
    assert audit.ingest() == 0
    assert spool_files(audit.spool_dir) == []
    assert _all(audit) == ["from-child"]


def test_a_spool_belongs_to_its_own_database(
    logs: Callable[..., SqliteAuditLog], make_row: Callable[..., AuditRow]
) -> None:
    a, b = logs("a.db"), logs("b.db")
    assert a.spool_dir != b.spool_dir
    writer = a.spool_writer()
    row = make_row()
    writer.write([row], BASE_US, sync=False)
    assert b.count() == 0 and b.lookup(LookupQuery(None, None)) == []
    assert [e.event_id for e in a.lookup(LookupQuery(None, None))] == [row.event_id]
    assert b.count() == 0
    writer.close()


def test_a_new_file_is_never_retired_before_its_writer_holds_it(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_flock = fcntl.flock
    raced = False

    def flock(fd: int, op: int) -> None:
        # Another process ingests between the writer's create and its lock
        # (the file is created under a name ingesters ignore, then renamed).
        nonlocal raced
        if op == fcntl.LOCK_EX and not raced:
            raced = True
            audit.ingest()
        real_flock(fd, op)

    monkeypatch.setattr("strongroom.audit.spool.fcntl.flock", flock)
    writer = audit.spool_writer()
    row = make_row()
    writer.write([row], BASE_US, sync=True)  # acknowledged
    monkeypatch.undo()
    assert raced
    assert _all(audit) == [row.event_id]
    writer.close()


def test_the_empty_file_of_a_writer_that_died_while_starting_it_is_removed(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow]
) -> None:
    # A writer creates its next file as *.spool.new, locks it, renames it:
    # dying in between leaves an empty, unheld .new file behind.
    os.makedirs(audit.spool_dir, exist_ok=True)
    stale = os.path.join(audit.spool_dir, "00000000000000000001-999-000001.spool.new")
    fresh = os.path.join(audit.spool_dir, "00000000000000000002-999-000001.spool.new")
    for path in (stale, fresh):
        open(path, "wb").close()
    old = os.path.getmtime(stale) - spool.ABANDONED_AFTER_SECONDS - 1
    os.utime(stale, (old, old))
    writer = audit.spool_writer()
    writer.write([make_row()], BASE_US, sync=False)
    writer.close()
    assert audit.ingest() == 1  # a finished file left the spool: leftovers go with it
    assert not os.path.exists(stale)
    assert os.path.exists(fresh)  # its writer may be about to lock it


def test_only_empty_unheld_old_new_files_are_abandoned(tmp_path: Path) -> None:
    now = 1_000_000.0
    names = {"held": b"", "written": b"x", "young": b"", "abandoned": b""}
    fds = []
    for name, data in names.items():
        path = tmp_path / f"{name}.spool.new"
        path.write_bytes(data)
        when = now - (1 if name == "young" else spool.ABANDONED_AFTER_SECONDS + 1)
        os.utime(path, (when, when))
        if name == "held":
            fd = os.open(path, os.O_WRONLY)
            fcntl.flock(fd, fcntl.LOCK_EX)
            fds.append(fd)
    (tmp_path / "other.spool").write_bytes(b"")
    try:
        assert spool.remove_abandoned(str(tmp_path), now=now) == 1
    finally:
        for fd in fds:
            os.close(fd)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "held.spool.new",
        "other.spool",
        "written.spool.new",
        "young.spool.new",
    ]
    assert spool.remove_abandoned(str(tmp_path / "missing")) == 0


def test_a_lookup_moves_the_spool_once(
    audit: SqliteAuditLog, make_row: Callable[..., AuditRow], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = audit.spool_writer()
    writer.write([make_row() for _ in range(3)], BASE_US, sync=False)
    moves: list[int] = []
    ingest = SqliteAuditLog.ingest

    def counted(self: SqliteAuditLog) -> int:
        moves.append(1)
        return ingest(self)

    monkeypatch.setattr(SqliteAuditLog, "ingest", counted)
    assert len(audit.lookup(LookupQuery(ACCOUNT, "us-east-1"))) == 3
    assert len(moves) == 1
    writer.close()
