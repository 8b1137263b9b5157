"""Shared fixtures: live servers for integration tests."""

from __future__ import annotations

import os
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
