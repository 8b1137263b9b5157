"""Schema migrations: an ordered list, applied once each, under a lock.

Every process (server workers, the admin CLI) migrates at open, so two may
start at the same moment: each takes the database's write lock (SQLite
``BEGIN IMMEDIATE``, a PostgreSQL advisory lock) before reading the schema
version, and DDL is transactional on both engines, so a migration is
applied exactly once or not at all.

Migrations are append-only: never edit one that has shipped, add the next.
A database newer than this code is refused rather than half-understood.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import psycopg


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sqlite: tuple[str, ...]
    # ``{table}`` is the (validated) key-value table name: tests run many
    # stores side by side in one PostgreSQL database.
    postgres: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "key-value table",
        sqlite=("CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",),
        # COLLATE "C" makes ordering bytewise on UTF-8, the same as SQLite's
        # BINARY collation, whatever the database's default locale is.
        postgres=('CREATE TABLE {table} (key TEXT COLLATE "C" PRIMARY KEY, value BYTEA NOT NULL)',),
    ),
    # The audit trail (strongroom.audit, docs/design/audit.md). Requests
    # wait for ``audit_events`` appends, so that table had no secondary
    # index (until migration 5): events in commit order (seq), with the lookup-index entries
    # they need in ``attrs`` (JSON). The lookup index is filled from it in
    # bulk: on PostgreSQL in ``audit_index``/``audit_meta`` here; on SQLite
    # in a side file the audit log creates itself (derived data, rebuilt if
    # lost), so that indexing never holds the one database write lock that
    # appends wait for. ``audit_pending`` holds the "request" entries of
    # mutating calls still in flight.
    Migration(
        2,
        "audit trail tables",
        sqlite=(
            "CREATE TABLE audit_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
            "event_id TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL, "
            "event_time INTEGER NOT NULL, recorded_at INTEGER NOT NULL, "
            "read_only INTEGER NOT NULL, attrs TEXT NOT NULL, body BLOB NOT NULL)",
            "CREATE TABLE audit_pending (event_id TEXT PRIMARY KEY, recorded_at INTEGER NOT NULL, "
            "row BLOB NOT NULL)",
        ),
        postgres=(
            "CREATE TABLE {table}_audit_events (seq BIGSERIAL PRIMARY KEY, "
            'event_id TEXT NOT NULL, account TEXT COLLATE "C" NOT NULL, '
            'region TEXT COLLATE "C" NOT NULL, event_time BIGINT NOT NULL, '
            "recorded_at BIGINT NOT NULL, read_only BOOLEAN NOT NULL, attrs TEXT NOT NULL, "
            "body BYTEA NOT NULL)",
            'CREATE TABLE {table}_audit_index (account TEXT COLLATE "C" NOT NULL, '
            'region TEXT COLLATE "C" NOT NULL, attr TEXT NOT NULL, '
            'value TEXT COLLATE "C" NOT NULL, event_time BIGINT NOT NULL, seq BIGINT NOT NULL, '
            "PRIMARY KEY (account, region, attr, value, event_time, seq))",
            "CREATE TABLE {table}_audit_pending (event_id TEXT PRIMARY KEY, "
            "recorded_at BIGINT NOT NULL, row BYTEA NOT NULL)",
            "CREATE TABLE {table}_audit_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
            "INSERT INTO {table}_audit_meta (name, value) VALUES ('indexed_seq', 0)",
        ),
    ),
    # The lookup index as posting lists (strongroom.audit.postings): one
    # row per attribute value per indexed chunk instead of one per event
    # and attribute. Derived data: rebuilt from the events. (On SQLite the
    # index lives in a side file that the audit log converts itself.)
    Migration(
        3,
        "audit lookup index as posting lists",
        sqlite=(),
        postgres=(
            'CREATE TABLE {table}_audit_postings (account TEXT COLLATE "C" NOT NULL, '
            'region TEXT COLLATE "C" NOT NULL, attr TEXT COLLATE "C" NOT NULL, '
            'value TEXT COLLATE "C" NOT NULL, max_time BIGINT NOT NULL, '
            "last_seq BIGINT NOT NULL, min_time BIGINT NOT NULL, entries BYTEA NOT NULL, "
            "PRIMARY KEY (account, region, attr, value, max_time, last_seq))",
            "DROP TABLE {table}_audit_index",
            "UPDATE {table}_audit_meta SET value = 0 WHERE name = 'indexed_seq'",
        ),
    ),
    # SQLite servers spool audit batches to files and move them into
    # audit_events in bulk (strongroom.audit.spool): how far each spool
    # file has been moved, updated in the same transaction as its rows.
    Migration(
        4,
        "audit spool offsets",
        sqlite=(
            "CREATE TABLE audit_spool (file TEXT PRIMARY KEY, offset INTEGER NOT NULL) "
            "WITHOUT ROWID",
        ),
        postgres=(),
    ),
    # LookupEvents by EventId reads the events table through this index
    # instead of a posting row per event: the id is the one attribute that
    # never repeats, so posting lists gained nothing for it. Appends are
    # spooled (SQLite) or written by the writer process (PostgreSQL), and
    # ids grow with time, so each insert lands on the index's last page.
    Migration(
        5,
        "audit events by event id",
        sqlite=("CREATE INDEX audit_events_event_id ON audit_events (event_id)",),
        postgres=("CREATE INDEX ON {table}_audit_events (event_id)",),
    ),
)

LATEST = MIGRATIONS[-1].version


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer Strongroom than this one."""


def _pending(current: int) -> list[Migration]:
    if current > LATEST:
        raise SchemaTooNew(
            f"database schema version {current} is newer than this Strongroom "
            f"understands ({LATEST}); upgrade Strongroom before opening it"
        )
    return [m for m in MIGRATIONS if m.version > current]


def migrate_sqlite(conn: sqlite3.Connection) -> int:
    """Bring an SQLite database to the latest schema; returns its version.

    ``conn`` must be in autocommit mode (``isolation_level=None``) so that the
    explicit BEGIN IMMEDIATE below is the only transaction.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        current = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        for migration in _pending(int(current[0])):
            for statement in migration.sqlite:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, name, applied_at) "
                "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                (migration.version, migration.name),
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return LATEST


def migrate_postgres(conn: psycopg.Connection[Any], table: str, lock_key: int) -> int:
    """Bring the PostgreSQL table ``table`` to the latest schema.

    ``lock_key`` is an advisory-lock key private to this table's migrations;
    taking it before ``CREATE TABLE IF NOT EXISTS`` matters because that
    statement itself is not safe against a concurrent twin.
    """
    versions = f"{table}_schema_version"
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key,))
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {versions} ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        row = conn.execute(f"SELECT coalesce(max(version), 0) FROM {versions}").fetchone()
        assert row is not None
        for migration in _pending(int(row[0])):
            for statement in migration.postgres:
                conn.execute(statement.format(table=table))
            conn.execute(
                f"INSERT INTO {versions} (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
    return LATEST
