"""MySQL and MariaDB driver for the database rotators (PyMySQL).

Values are passed as query parameters (PyMySQL escapes them); MySQL accepts
an account name as quoted strings, ``'user'@'host'``, so names are
parameters too. A user changes its own password with ``SET PASSWORD`` on
MariaDB and ``ALTER USER USER()`` on MySQL: both need no privilege.
"""

from __future__ import annotations

import re
from typing import Any

import pymysql


def _is_mariadb(conn: Any) -> bool:
    return "mariadb" in str(conn.get_server_info()).lower()


class MySqlDriver:
    engines: tuple[str, ...] = ("mysql", "mariadb", "aurora-mysql", "aurora")
    default_port: int = 3306
    max_username: int = 32

    def connect(self, secret: dict[str, Any], timeout: float) -> Any | None:
        try:
            return pymysql.connect(
                host=str(secret["host"]),
                port=int(secret.get("port", self.default_port)),
                user=str(secret["username"]),
                password=str(secret["password"]),
                database=str(secret["dbname"]) if secret.get("dbname") else None,
                connect_timeout=max(1, int(timeout)),
                autocommit=True,
            )
        except pymysql.err.OperationalError:
            return None

    def set_own_password(self, conn: Any, secret: dict[str, Any]) -> None:
        with conn.cursor() as cur:
            if _is_mariadb(conn):
                cur.execute("SET PASSWORD = PASSWORD(%s)", (str(secret["password"]),))
            else:
                cur.execute("ALTER USER USER() IDENTIFIED BY %s", (str(secret["password"]),))

    def upsert_user(self, conn: Any, secret: dict[str, Any], template_user: str) -> None:
        user, password = str(secret["username"]), str(secret["password"])
        with conn.cursor() as cur:
            cur.execute("SELECT Host FROM mysql.user WHERE User = %s", (user,))
            hosts = [row[0] for row in cur.fetchall()]
            if hosts:
                for host in hosts:
                    cur.execute("ALTER USER %s@%s IDENTIFIED BY %s", (user, host, password))
                return
            cur.execute("SELECT Host FROM mysql.user WHERE User = %s", (template_user,))
            template_hosts = [row[0] for row in cur.fetchall()] or ["%"]
            for host in template_hosts:
                cur.execute("CREATE USER %s@%s IDENTIFIED BY %s", (user, host, password))
                cur.execute("SHOW GRANTS FOR %s@%s", (template_user, host))
                for (grant,) in cur.fetchall():
                    statement = _grant_for(str(grant), template_user, user)
                    if statement is not None:
                        cur.execute(statement)

    def check(self, conn: Any) -> None:
        with conn.cursor() as cur:
            cur.execute("SELECT NOW()")
            cur.fetchone()

    def close(self, conn: Any) -> None:
        conn.close()


_IDENTIFIED = re.compile(r"\s+IDENTIFIED\s+(BY|VIA|WITH)\b.*$", re.IGNORECASE | re.DOTALL)


def _grant_for(grant: str, template_user: str, user: str) -> str | None:
    """SHOW GRANTS' line for the template user, rewritten for the clone.

    The credential clause (``IDENTIFIED BY PASSWORD '*…'``) is dropped: the
    clone has its own password. The plain USAGE grant adds nothing.
    """
    quoted = "'" + template_user.replace("\\", "\\\\").replace("'", "\\'") + "'@"
    if quoted not in grant:
        quoted = "`" + template_user.replace("`", "``") + "`@"
        if quoted not in grant:
            return None
    replacement = "'" + user.replace("\\", "\\\\").replace("'", "\\'") + "'@"
    statement = _IDENTIFIED.sub("", grant.replace(quoted, replacement, 1))
    if (
        re.match(r"^GRANT USAGE ON \*\.\* TO ", statement, re.IGNORECASE)
        and " WITH " not in statement
    ):
        return None
    return statement
