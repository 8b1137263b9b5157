"""Schema migrations: applied once, under a lock, never downgraded."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from tests.storage.conftest import drop_pg_table

from strongroom.storage.migrations import LATEST, MIGRATIONS, SchemaTooNew
from strongroom.storage.postgres import PostgresStore
from strongroom.storage.sqlite import SqliteStore


def test_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


def test_sqlite_records_each_migration_once(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    SqliteStore(db).close()
    SqliteStore(db).close()
    with sqlite3.connect(db) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
    assert versions == list(range(1, LATEST + 1))


def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    SqliteStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO schema_version VALUES (999, 'future', 'x')")
    with pytest.raises(SchemaTooNew, match="newer"):
        SqliteStore(db)


def _open_many_at_once(code: str, n: int = 4) -> None:
    # A barrier file makes the children start their open at the same moment.
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == "ok"


def test_sqlite_concurrent_first_open(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    _open_many_at_once(
        "from strongroom.storage.sqlite import SqliteStore\n"
        f"s = SqliteStore({str(db)!r}); s.put('k', b'v'); print('ok')"
    )
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == LATEST
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_postgres_concurrent_first_open(postgres_url: str) -> None:
    table = f"test_kv_{uuid.uuid4().hex[:12]}"
    try:
        _open_many_at_once(
            "from strongroom.storage.postgres import PostgresStore\n"
            f"s = PostgresStore({postgres_url!r}, table={table!r}); s.put('k', b'v'); print('ok')"
        )
        with psycopg.connect(postgres_url) as conn:
            rows = conn.execute(f"SELECT version FROM {table}_schema_version").fetchall()
        assert [r[0] for r in rows] == list(range(1, LATEST + 1))
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"INSERT INTO {table}_schema_version (version, name) VALUES (999, 'f')")
        with pytest.raises(SchemaTooNew):
            PostgresStore(postgres_url, table=table)
    finally:
        drop_pg_table(postgres_url, table)
