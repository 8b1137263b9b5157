"""The lookup index job: when it indexes, and the process that runs it for servers."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from strongroom.audit import indexer_process
from strongroom.audit.indexer_process import IndexerProcess, QuietIndexer
from strongroom.audit.log import AuditRow
from strongroom.audit.sqlite_log import SqliteAuditLog
from strongroom.storage.sqlite import SqliteStore

BASE_US = 1_714_564_800_000_000


def _log(tmp_path: Path) -> tuple[SqliteAuditLog, str]:
    path = tmp_path / "audit.db"
    SqliteStore(str(path)).close()  # the store runs the migrations
    return SqliteAuditLog(str(path)), f"sqlite:///{path}"


def test_the_index_waits_while_events_keep_coming(
    tmp_path: Path, make_row: Callable[..., AuditRow], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, _ = _log(tmp_path)
    indexer = QuietIndexer(log)
    counter = itertools.count()
    log.append([make_row(at=BASE_US + next(counter)) for _ in range(3)], BASE_US)
    assert indexer.run() == 3  # first look: nothing known about the load, index
    log.append([make_row(at=BASE_US + next(counter)) for _ in range(3)], BASE_US)
    assert indexer.run() == 0  # the backlog grew since the last look: wait
    assert indexer.run() == 3  # it stopped growing: index
    # A backlog past the threshold is indexed even while it grows.
    monkeypatch.setattr(indexer_process, "INDEX_BACKLOG", 2)
    log.append([make_row(at=BASE_US + next(counter)) for _ in range(2)], BASE_US)
    indexer.run()
    log.append([make_row(at=BASE_US + next(counter)) for _ in range(2)], BASE_US)
    assert indexer.run() == 2
    assert log.indexed_seq() == log.last_seq()
    log.close()


def test_the_indexer_process_indexes_and_stops_with_its_parent(
    tmp_path: Path, make_row: Callable[..., AuditRow]
) -> None:
    log, url = _log(tmp_path)
    log.append([make_row(at=BASE_US + i) for i in range(5)], BASE_US)
    process = IndexerProcess(url, 10.0)
    process.ensure()
    child = process._proc
    assert child is not None
    process.ensure()  # running: nothing new
    assert process._proc is child
    deadline = time.monotonic() + 30
    while log.indexed_seq() != log.last_seq():
        assert time.monotonic() < deadline, "the indexer process never indexed"
        time.sleep(0.1)
    process.close()
    assert child.poll() is not None  # it exited when the socket closed
    process.ensure()  # closed for good: not started again
    assert process._proc is None
    log.close()
