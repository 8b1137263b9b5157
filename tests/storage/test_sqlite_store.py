"""SQLite specifics the conformance suite cannot see."""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from strongroom.storage.sqlite import PAGE_SIZE, SqliteStore


def test_wal_and_full_sync_on_every_connection(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    seen: list[tuple[str, int]] = []

    def probe() -> None:
        store.get("k")  # opens this thread's connection
        conn = store._reader()
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        sync = conn.execute("PRAGMA synchronous").fetchone()[0]
        seen.append((mode, sync))

    probe()
    worker = threading.Thread(target=probe)
    worker.start()
    worker.join()
    assert seen == [("wal", 2), ("wal", 2)]  # 2 == FULL
    store.close()


def test_new_databases_get_large_pages_and_old_ones_keep_theirs(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "new.db")
    store.put("k", b"v")
    assert store._reader().execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    store.close()
    old = sqlite3.connect(tmp_path / "old.db")
    old.execute("PRAGMA page_size=4096")
    old.execute("CREATE TABLE earlier (x)")
    old.close()
    store = SqliteStore(tmp_path / "old.db")
    store.put("k", b"v")
    assert store.get("k") == b"v"
    assert store._reader().execute("PRAGMA page_size").fetchone()[0] == 4096
    store.close()


def test_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "s.db"
    store = SqliteStore(db)
    store.put("k", b"v")
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(f"{db}-wal").stat().st_mode) == 0o600
    lock = store.leader_lock("jobs")
    assert lock.try_acquire()
    assert stat.S_IMODE(Path(f"{db}.jobs.lock").stat().st_mode) == 0o600
    lock.release()
    store.close()


def test_threads_use_their_own_connections(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    # Hold the connections themselves: a dead thread's connection may be
    # freed and its id() reused by the next thread's.
    conns: list[object] = []

    def grab() -> None:
        store.get("k")
        conns.append(store._reader())

    threads = [threading.Thread(target=grab) for _ in range(3)]
    for t in threads:
        t.start()
        t.join()
    grab()
    assert len({id(c) for c in conns}) == 4
    store.close()


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.put("k", b"v")
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.get("k")


def test_memory_databases_are_refused() -> None:
    with pytest.raises(ValueError):
        SqliteStore(":memory:")
