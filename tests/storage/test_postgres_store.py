"""PostgreSQL specifics the conformance suite cannot see."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from tests.storage.conftest import drop_pg_table

from strongroom.storage.postgres import PostgresStore


@pytest.fixture
def pg(postgres_url: str) -> Iterator[PostgresStore]:
    table = f"test_kv_{uuid.uuid4().hex[:12]}"
    store = PostgresStore(postgres_url, table=table)
    yield store
    store.close()
    drop_pg_table(postgres_url, table)


def test_table_names_are_validated(postgres_url: str) -> None:
    with pytest.raises(ValueError):
        PostgresStore(postgres_url, table="kv; DROP TABLE x")


def test_key_column_is_bytewise(pg: PostgresStore, postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = %s AND column_name = 'key'",
            (pg.table,),
        ).fetchone()
    assert row == ("C",)


def test_pool_recovers_from_dropped_connections(pg: PostgresStore, postgres_url: str) -> None:
    pg.put("k", b"v")
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database() AND query LIKE %s",
            (f"%{pg.table}%",),
        ).fetchall()
    assert killed and all(ok for (ok,) in killed)
    # The pooled connection is dead; a read retries once on a fresh one.
    assert pg.get("k") == b"v"
    pg.put("k", b"w")
    assert pg.get("k") == b"w"


def test_repr_hides_the_url(postgres_url: str, pg: PostgresStore) -> None:
    assert postgres_url not in repr(pg)
