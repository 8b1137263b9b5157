"""Backends for the storage conformance suite.

Every test that takes ``backend`` (or ``store``) runs against SQLite,
PostgreSQL, and the sealed store over each. PostgreSQL runs only when
STRONGROOM_TEST_POSTGRES_URL is set (the root conftest's ``postgres_url``
fixture skips with instructions otherwise); each test gets its own table,
dropped afterwards, so runs can share one database.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from strongroom.crypto.root_key import KeyFileProvider, open_barrier
from strongroom.storage.base import Store
from strongroom.storage.postgres import PostgresStore
from strongroom.storage.sealed import SealedStore
from strongroom.storage.sqlite import SqliteStore


@dataclass
class Backend:
    name: str
    sealed: bool
    _open_raw: Callable[[], Store]
    _raw_prelude: str
    keyfile: Path
    opened: list[Store] = field(default_factory=list)

    def open(self) -> Store:
        """A new store instance over this backend's data (as another process would)."""
        store = self._open_raw()
        if self.sealed:
            store = SealedStore(store, open_barrier(store, KeyFileProvider(self.keyfile)))
        self.opened.append(store)
        return store

    @property
    def child_prelude(self) -> str:
        """Python source that binds ``store`` to this backend in a child process."""
        source = self._raw_prelude
        if self.sealed:
            source += (
                "from strongroom.crypto.root_key import KeyFileProvider, open_barrier\n"
                "from strongroom.storage.sealed import SealedStore\n"
                f"provider = KeyFileProvider({str(self.keyfile)!r})\n"
                "store = SealedStore(store, open_barrier(store, provider))\n"
            )
        return source

    def spawn(self, body: str) -> subprocess.Popen[str]:
        """Run ``body`` (with ``store`` bound) in a fresh Python process."""
        code = self.child_prelude + textwrap.dedent(body)
        return subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("sealed-sqlite", id="sealed-sqlite"),
    pytest.param("sealed-postgres", id="sealed-postgres", marks=pytest.mark.postgres),
]


def drop_pg_table(url: str, table: str) -> None:
    """Drop a test's store table and everything named after it: the schema
    version table and the audit tables of migration 2 (``{table}_audit_events``,
    ``_index``, ``_pending``, ``_meta``: audit/postgres_log.py), found by
    name so that tables added by later migrations go too."""
    pattern = table.replace("_", r"\_") + r"\_audit\_%"
    with psycopg.connect(url, autocommit=True) as conn:
        audit = [
            str(row[0])
            for row in conn.execute(
                "SELECT tablename FROM pg_tables "
                "WHERE schemaname = current_schema() AND tablename LIKE %s",
                (pattern,),
            )
        ]
        names = ", ".join([table, f"{table}_schema_version", *audit])
        conn.execute(f"DROP TABLE IF EXISTS {names}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    name: str = request.param
    keyfile = tmp_path / "root.key"
    table = ""
    url = ""
    if name.endswith("postgres"):
        url = request.getfixturevalue("postgres_url")
        table = f"test_kv_{uuid.uuid4().hex[:12]}"
        b = Backend(
            name,
            name.startswith("sealed"),
            lambda: PostgresStore(url, table=table),
            "from strongroom.storage.postgres import PostgresStore\n"
            f"store = PostgresStore({url!r}, table={table!r})\n",
            keyfile,
        )
    else:
        path = str(tmp_path / "store.db")
        b = Backend(
            name,
            name.startswith("sealed"),
            lambda: SqliteStore(path),
            f"from strongroom.storage.sqlite import SqliteStore\nstore = SqliteStore({path!r})\n",
            keyfile,
        )
    yield b
    for store in b.opened:
        store.close()
    if table:
        drop_pg_table(url, table)


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.open()
