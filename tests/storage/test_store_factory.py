from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.config import Settings
from strongroom.storage.factory import open_store, sqlite_path
from strongroom.storage.postgres import PostgresStore
from strongroom.storage.sqlite import SqliteStore


def test_sqlite_urls_with_three_or_four_slashes_name_the_same_file(tmp_path: Path) -> None:
    assert sqlite_path(f"sqlite://{tmp_path}/a.db") == f"{tmp_path}/a.db"
    assert sqlite_path(f"sqlite:///{tmp_path}/a.db") == f"{tmp_path}/a.db"


def test_settings_store_url_opens(tmp_path: Path) -> None:
    store = open_store(Settings(data_dir=tmp_path / "data").store_url)
    try:
        assert isinstance(store, SqliteStore)
        assert store.path == str((tmp_path / "data" / "strongroom.db").resolve())
        assert store.kind == "sqlite"
    finally:
        store.close()


@pytest.mark.parametrize("url", ["sqlite://relative.db", "sqlite:///", "sqlite:///x.db?mode=ro"])
def test_bad_sqlite_urls(url: str) -> None:
    with pytest.raises(ValueError, match="SQLite URL"):
        open_store(url)


@pytest.mark.parametrize("url", ["mysql://u:secret@host/db", "redis:x", "/just/a/path"])
def test_unknown_scheme_is_a_clear_value_error(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported store URL scheme") as info:
        open_store(url)
    assert "secret" not in str(info.value)
    assert "sqlite:///" in str(info.value)


def test_postgres_urls(fresh_pg_database: str) -> None:
    for url in (fresh_pg_database, fresh_pg_database.replace("postgresql://", "postgres://", 1)):
        store = open_store(url)
        try:
            assert isinstance(store, PostgresStore)
            assert store.kind == "postgresql"
        finally:
            store.close()
