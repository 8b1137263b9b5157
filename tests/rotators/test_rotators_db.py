"""The built-in database rotators against the real PostgreSQL and MariaDB/MySQL.

Each test creates a throwaway database user, stores its credentials in a
secret in AWS's JSON shape, rotates it through RotateSecret and the rotation
job, and checks the database: the new password is accepted and the old one
is not. PostgreSQL on the test machines trusts loopback connections (any
password logs in), so there the check also reads the SCRAM verifier the
server keeps for the role and tests each password against it.

Enable with STRONGROOM_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test
and STRONGROOM_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
from tests.services.secretsmanager.sm_support import ACCOUNT, SmEnv

from strongroom.rotators.registry import RotatorRecord, RotatorRegistry

MYSQL_ENV = "STRONGROOM_TEST_MYSQL_URL"
POSTGRES_ENV = "STRONGROOM_TEST_POSTGRES_URL"


def _register(sm: SmEnv, kind: str) -> str:
    record = RotatorRecord(kind, ACCOUNT, "us-east-1", kind, "2024-05-01T00:00:00+00:00", {})
    RotatorRegistry(sm.store).put(record)
    return record.arn


def _rotate(sm: SmEnv, name: str, arn: str) -> dict[str, Any]:
    sm.call("RotateSecret", SecretId=name, RotationLambdaARN=arn)
    assert sm.sm.rotate_due(sm.clock.now) == 1
    last = sm.events()[-1]["detail"]
    assert last["eventName"] == "RotationSucceeded", last
    return dict(json.loads(sm.value(name)["SecretString"]))


# -- PostgreSQL ---------------------------------------------------------------------


@pytest.fixture()
def pg() -> Iterator[Any]:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"set {POSTGRES_ENV}=postgresql://postgres@127.0.0.1:5432/test to run")
    import psycopg

    conn = psycopg.connect(url, autocommit=True)
    try:
        yield conn
    finally:
        conn.close()


def _pg_target(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    return {
        "engine": "postgres",
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "dbname": parsed.path.lstrip("/") or "postgres",
    }


def _scram_accepts(conn: Any, role: str, password: str) -> bool:
    """Does the role's SCRAM-SHA-256 verifier match ``password`` (RFC 5802/7677)?"""
    row = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()
    assert row is not None and row[0].startswith("SCRAM-SHA-256$"), row
    _, rest = row[0].split("$", 1)
    iter_salt, keys = rest.split("$")
    iterations, salt = iter_salt.split(":")
    stored_key = base64.b64decode(keys.split(":")[0])
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)


def _pg_logs_in(secret: dict[str, Any]) -> bool:
    import psycopg

    try:
        psycopg.connect(
            host=secret["host"],
            port=secret["port"],
            user=secret["username"],
            password=secret["password"],
            dbname=secret["dbname"],
            connect_timeout=5,
        ).close()
    except psycopg.OperationalError:
        return False
    return True


@pytest.fixture()
def pg_role(pg: Any) -> Iterator[str]:
    role = f"sr_rot_{secrets.token_hex(4)}"
    pg.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'initial-pw'")
    try:
        yield role
    finally:
        for name in (f"{role}_clone", role):
            pg.execute(f"DROP ROLE IF EXISTS {name}")


def test_postgres_single_user(sm: SmEnv, pg: Any, pg_role: str) -> None:
    url = os.environ[POSTGRES_ENV]
    secret = {**_pg_target(url), "username": pg_role, "password": "initial-pw"}
    sm.call("CreateSecret", Name="pg", SecretString=json.dumps(secret))
    arn = _register(sm, "postgres-single")
    rotated = _rotate(sm, "pg", arn)
    assert rotated["username"] == pg_role
    assert rotated["password"] != "initial-pw" and len(rotated["password"]) == 32
    assert _pg_logs_in(rotated)
    assert _scram_accepts(pg, pg_role, rotated["password"])
    assert not _scram_accepts(pg, pg_role, "initial-pw")
    again = _rotate(sm, "pg", arn)
    assert _scram_accepts(pg, pg_role, again["password"])
    assert not _scram_accepts(pg, pg_role, rotated["password"])
    previous = json.loads(sm.value("pg", VersionStage="AWSPREVIOUS")["SecretString"])
    assert previous["password"] == rotated["password"]


def test_postgres_alternating_users(sm: SmEnv, pg: Any, pg_role: str) -> None:
    url = os.environ[POSTGRES_ENV]
    parsed = urlparse(url)
    target = _pg_target(url)
    pg.execute(f"CREATE TABLE IF NOT EXISTS {pg_role}_t (x int)")
    pg.execute(f"ALTER TABLE {pg_role}_t OWNER TO {pg_role}")
    try:
        master = {
            **target,
            "username": parsed.username or "postgres",
            "password": parsed.password or "",
        }
        master_arn = sm.call("CreateSecret", Name="pg-master", SecretString=json.dumps(master))[
            "ARN"
        ]
        app = {**target, "username": pg_role, "password": "initial-pw", "masterarn": master_arn}
        sm.call("CreateSecret", Name="pg-app", SecretString=json.dumps(app))
        arn = _register(sm, "postgres-alternating")
        first = _rotate(sm, "pg-app", arn)
        assert first["username"] == f"{pg_role}_clone"
        assert _scram_accepts(pg, first["username"], first["password"])
        # The clone inherits the first user's privileges.
        import psycopg

        with psycopg.connect(
            host=first["host"],
            port=first["port"],
            user=first["username"],
            password=first["password"],
            dbname=first["dbname"],
        ) as conn:
            conn.execute(f"SELECT count(*) FROM {pg_role}_t").fetchone()
        # The previous user still works until the next rotation (the point of alternating).
        assert _scram_accepts(pg, pg_role, "initial-pw")
        second = _rotate(sm, "pg-app", arn)
        assert second["username"] == pg_role
        assert _scram_accepts(pg, pg_role, second["password"])
        assert not _scram_accepts(pg, pg_role, "initial-pw")
    finally:
        pg.execute(f"DROP TABLE IF EXISTS {pg_role}_t")


def test_postgres_failed_login_keeps_current(sm: SmEnv, pg: Any, pg_role: str) -> None:
    url = os.environ[POSTGRES_ENV]
    secret = {**_pg_target(url), "username": pg_role, "password": "initial-pw", "port": 1}
    sm.call("CreateSecret", Name="pg-bad", SecretString=json.dumps(secret))
    arn = _register(sm, "postgres-single")
    sm.call("RotateSecret", SecretId="pg-bad", RotationLambdaARN=arn)
    sm.sm.rotate_due(sm.clock.now)
    failed = sm.events()[-1]["detail"]
    assert failed["eventName"] == "RotationFailed"
    assert failed["additionalEventData"]["Step"] == "setSecret"
    assert json.loads(sm.value("pg-bad")["SecretString"])["password"] == "initial-pw"
    assert "AWSPENDING" in sm.value("pg-bad", VersionStage="AWSPENDING")["VersionStages"]
    assert _scram_accepts(pg, pg_role, "initial-pw")


# -- MySQL / MariaDB ------------------------------------------------------------------


@pytest.fixture()
def my() -> Iterator[tuple[Any, dict[str, Any]]]:
    url = os.environ.get(MYSQL_ENV)
    if not url:
        pytest.skip(f"set {MYSQL_ENV}=mysql://root@127.0.0.1:3306/test to run")
    import pymysql

    parsed = urlparse(url)
    target = {
        "engine": "mysql",
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 3306,
        "dbname": parsed.path.lstrip("/") or "test",
        "admin_user": parsed.username or "root",
        "admin_password": parsed.password or "",
    }
    conn = pymysql.connect(
        host=target["host"],
        port=target["port"],
        user=target["admin_user"],
        password=target["admin_password"],
        autocommit=True,
    )
    try:
        yield conn, target
    finally:
        conn.close()


def _my_logs_in(secret: dict[str, Any]) -> bool:
    import pymysql

    try:
        pymysql.connect(
            host=secret["host"],
            port=secret["port"],
            user=secret["username"],
            password=secret["password"],
            database=secret["dbname"],
            connect_timeout=5,
        ).close()
    except pymysql.err.OperationalError:
        return False
    return True


@pytest.fixture()
def my_user(my: tuple[Any, dict[str, Any]]) -> Iterator[str]:
    conn, target = my
    user = f"sr_rot_{secrets.token_hex(4)}"
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{target['dbname']}`")
        cur.execute("CREATE USER %s@'%%' IDENTIFIED BY 'initial-pw'", (user,))
        cur.execute(f"GRANT SELECT ON `{target['dbname']}`.* TO %s@'%%'", (user,))
    try:
        yield user
    finally:
        with conn.cursor() as cur:
            for name in (f"{user}_clone", user):
                cur.execute("DROP USER IF EXISTS %s@'%%'", (name,))


def _my_secret(target: dict[str, Any], **extra: Any) -> dict[str, Any]:
    keep = ("engine", "host", "port", "dbname")
    return {**{k: target[k] for k in keep}, **extra}


def test_mysql_single_user(sm: SmEnv, my: tuple[Any, dict[str, Any]], my_user: str) -> None:
    _, target = my
    secret = _my_secret(target, username=my_user, password="initial-pw")
    assert _my_logs_in(secret)
    sm.call("CreateSecret", Name="my", SecretString=json.dumps(secret))
    arn = _register(sm, "mysql-single")
    rotated = _rotate(sm, "my", arn)
    assert rotated["password"] != "initial-pw"
    assert _my_logs_in(rotated)
    assert not _my_logs_in(secret)
    again = _rotate(sm, "my", arn)
    assert _my_logs_in(again)
    assert not _my_logs_in(rotated)


def test_mysql_alternating_users(sm: SmEnv, my: tuple[Any, dict[str, Any]], my_user: str) -> None:
    conn, target = my
    master = _my_secret(target, username=target["admin_user"], password=target["admin_password"])
    master_arn = sm.call("CreateSecret", Name="my-master", SecretString=json.dumps(master))["ARN"]
    app = _my_secret(target, username=my_user, password="initial-pw", masterarn=master_arn)
    sm.call("CreateSecret", Name="my-app", SecretString=json.dumps(app))
    arn = _register(sm, "mysql-alternating")
    first = _rotate(sm, "my-app", arn)
    assert first["username"] == f"{my_user}_clone"
    assert _my_logs_in(first)
    assert _my_logs_in(app)  # the other user keeps working for now
    with conn.cursor() as cur:
        cur.execute("SHOW GRANTS FOR %s@'%%'", (first["username"],))
        grants = " ".join(row[0] for row in cur.fetchall())
    assert "GRANT SELECT ON" in grants
    second = _rotate(sm, "my-app", arn)
    assert second["username"] == my_user
    assert _my_logs_in(second)
    assert not _my_logs_in(app)
