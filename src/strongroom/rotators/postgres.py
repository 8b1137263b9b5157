"""PostgreSQL driver for the database rotators (psycopg 3).

Identifiers and passwords go through ``psycopg.sql`` quoting: a username or
password with quotes cannot change the statement. Connections autocommit.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql


class PostgresDriver:
    engines: tuple[str, ...] = ("postgres", "postgresql", "aurora-postgresql")
    default_port: int = 5432
    max_username: int = 63

    def connect(self, secret: dict[str, Any], timeout: float) -> Any | None:
        try:
            return psycopg.connect(
                host=str(secret["host"]),
                port=int(secret.get("port", self.default_port)),
                user=str(secret["username"]),
                password=str(secret["password"]),
                dbname=str(secret.get("dbname") or "postgres"),
                connect_timeout=max(1, int(timeout)),
                autocommit=True,
            )
        except psycopg.OperationalError:
            return None

    def set_own_password(self, conn: Any, secret: dict[str, Any]) -> None:
        conn.execute(
            sql.SQL("ALTER USER {} WITH PASSWORD {}").format(
                sql.Identifier(str(secret["username"])), sql.Literal(str(secret["password"]))
            )
        )

    def upsert_user(self, conn: Any, secret: dict[str, Any], template_user: str) -> None:
        user = str(secret["username"])
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
        password = sql.Literal(str(secret["password"]))
        if exists is None:
            conn.execute(
                sql.SQL("CREATE ROLE {} WITH LOGIN PASSWORD {}").format(
                    sql.Identifier(user), password
                )
            )
            # Membership in the first user's role gives the clone its privileges.
            conn.execute(
                sql.SQL("GRANT {} TO {}").format(
                    sql.Identifier(template_user), sql.Identifier(user)
                )
            )
        else:
            conn.execute(
                sql.SQL("ALTER USER {} WITH PASSWORD {}").format(sql.Identifier(user), password)
            )

    def check(self, conn: Any) -> None:
        conn.execute("SELECT now()").fetchone()

    def close(self, conn: Any) -> None:
        conn.close()
