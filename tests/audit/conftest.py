"""Audit log backends for the conformance suite, and row factories.

``audit_log`` runs each test against SQLite and, when
STRONGROOM_TEST_POSTGRES_URL is set, PostgreSQL (each test gets its own
tables, dropped afterwards).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from strongroom.audit.log import AuditLog, AuditRow, RowKind
from strongroom.audit.postgres_log import PostgresAuditLog
from strongroom.audit.sqlite_log import SqliteAuditLog
from strongroom.storage.postgres import PostgresStore
from strongroom.storage.sqlite import SqliteStore

BASE_US = 1_714_564_800_000_000  # 2024-05-01T12:00:00Z


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def audit_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], AuditLog]]:
    """A factory of AuditLog instances over one fresh database."""
    opened: list[AuditLog] = []
    if request.param == "sqlite":
        path = str(tmp_path / "audit.db")
        SqliteStore(path).close()  # the store runs the migrations

        def make() -> AuditLog:
            log = SqliteAuditLog(path)
            opened.append(log)
            return log

        yield make
    else:
        url = request.getfixturevalue("postgres_url")
        table = f"test_kv_{uuid.uuid4().hex[:12]}"
        PostgresStore(url, table=table).close()

        def make() -> AuditLog:
            log = PostgresAuditLog(url, table=table)
            opened.append(log)
            return log

        yield make
    for log in opened:
        log.close()
    if request.param == "postgres":
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                f"DROP TABLE IF EXISTS {table}, {table}_schema_version, {table}_audit_events, "
                f"{table}_audit_index, {table}_audit_postings, {table}_audit_pending, {table}_audit_meta"
            )


@pytest.fixture
def audit_log(audit_backend: Callable[[], AuditLog]) -> AuditLog:
    return audit_backend()


@pytest.fixture
def make_row() -> Callable[..., AuditRow]:
    counter = itertools.count(1)

    def make(
        *,
        account: str = "111122223333",
        region: str = "us-east-1",
        at: int | None = None,
        name: str = "GetCallerIdentity",
        user: str = "alice",
        akid: str = "AKIAEXAMPLE",
        read_only: bool = True,
        kind: RowKind = RowKind.EVENT,
        completes: str | None = None,
        event_id: str | None = None,
        extra: tuple[tuple[str, str], ...] = (),
        body: Any = None,
    ) -> AuditRow:
        n = next(counter)
        return AuditRow(
            kind,
            event_id or str(uuid.uuid4()),
            account,
            region,
            BASE_US + n * 1_000_000 if at is None else at,
            read_only,
            (("n", name), ("s", "sts.amazonaws.com"), ("u", user), ("k", akid), *extra),
            body if body is not None else f'{{"n":{n}}}'.encode(),
            completes,
        )

    return make
