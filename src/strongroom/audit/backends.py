"""Open the audit log for a database URL (kept import-light: the audit
writer process imports only this and the backend it needs)."""

from __future__ import annotations

from strongroom.audit.log import AuditLog
from strongroom.storage.factory import sqlite_path

_POSTGRES = ("postgresql://", "postgres://")


def open_audit_log(
    store_url: str,
    *,
    table: str = "strongroom_kv",
    write_timeout: float = 10.0,
    appender: bool = False,
    sync: str = "full",
) -> AuditLog:
    """The audit tables in the database at ``store_url`` (migrated by the store).

    ``appender``: this process appends continuously (the writer process),
    so on SQLite it also takes over WAL checkpoints from its commits.
    """
    if store_url.startswith("sqlite://"):
        from strongroom.audit.sqlite_log import SqliteAuditLog

        return SqliteAuditLog(
            sqlite_path(store_url),
            busy_timeout=write_timeout,
            background_checkpoint=appender,
            durable=sync != "normal",
        )
    if store_url.startswith(_POSTGRES):
        from strongroom.audit.postgres_log import PostgresAuditLog

        return PostgresAuditLog(
            store_url,
            table=table,
            statement_timeout_ms=int(write_timeout * 1000),
            durable=sync != "normal",
        )
    raise ValueError("the audit trail needs an SQLite or PostgreSQL store")
