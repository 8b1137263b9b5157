"""Shared fixtures: live servers for integration tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from tests.support.live_server import LiveServer, start_server

POSTGRES_URL_ENV = "STRONGROOM_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One authenticated server (SQLite) shared by the integration tests."""
    live = start_server(tmp_path_factory.mktemp("strongroom"))
    yield live
    live.stop()


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("strongroom-dev"), "--dev")
    yield live
    live.stop()


@pytest.fixture()
def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(
            f"set {POSTGRES_URL_ENV}=postgresql://postgres@127.0.0.1:5432/test to run PostgreSQL tests"
        )
    return url


@pytest.fixture()
def fresh_pg_database(postgres_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards.

    Tests that open the default table must not meet state (or a schema
    version) left in the shared database by other runs.
    """
    import psycopg

    name = f"strongroom_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{postgres_url.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
