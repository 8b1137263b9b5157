"""One entry point from a database URL to a Store."""

from __future__ import annotations

from strongroom.storage.base import Store

_SQLITE = "sqlite://"
_POSTGRES = ("postgresql://", "postgres://")


def sqlite_path(url: str) -> str:
    """The absolute file path in an ``sqlite:`` URL.

    Accepts ``sqlite:///abs/path.db`` and the SQLAlchemy spelling with four
    slashes (``sqlite:////abs/path.db``, which ``Settings.store_url``
    produces); both name ``/abs/path.db``. Relative paths are refused: a
    server and an admin command started from different directories must
    open the same file.
    """
    rest = url[len(_SQLITE) :]
    if not rest.startswith("/"):
        raise ValueError(
            f"SQLite URL needs an absolute path, as in sqlite:///var/lib/strongroom.db: {url!r}"
        )
    path = "/" + rest.lstrip("/")
    if path == "/" or "?" in path or "#" in path:
        raise ValueError(f"SQLite URL must name a file, without query or fragment: {url!r}")
    return path


def open_store(url: str) -> Store:
    """Open (creating and migrating as needed) the store at ``url``."""
    if url.startswith(_SQLITE):
        from strongroom.storage.sqlite import SqliteStore

        return SqliteStore(sqlite_path(url))
    if url.startswith(_POSTGRES):
        from strongroom.storage.postgres import PostgresStore

        return PostgresStore(url)
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise ValueError(
        f"unsupported store URL scheme {scheme!r}: use sqlite:///absolute/path.db "
        "or postgresql://user@host:port/dbname"
    )
