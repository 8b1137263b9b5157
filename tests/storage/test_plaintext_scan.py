"""Nothing written through the sealed store appears in the database in the clear."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
from tests.storage.conftest import drop_pg_table

from strongroom.crypto.root_key import KeyFileProvider, open_barrier
from strongroom.storage.postgres import PostgresStore
from strongroom.storage.sealed import SealedStore
from strongroom.storage.sqlite import SqliteStore


def _secrets() -> dict[str, bytes]:
    # Long enough that a chance match in ciphertext is impossible; hex so
    # that a match in any text encoding of the page would show up too.
    return {f"secrets/{i}": os.urandom(24).hex().encode() for i in range(50)}


def _assert_absent(haystack: bytes, secrets: dict[str, bytes]) -> None:
    leaked = [key for key, secret in secrets.items() if secret in haystack]
    assert leaked == [], f"plaintext of {leaked} found in storage"


def test_sqlite_files_hold_no_plaintext(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    raw = SqliteStore(db)
    sealed = SealedStore(raw, open_barrier(raw, KeyFileProvider(tmp_path / "root.key")))
    secrets = _secrets()
    for key, secret in secrets.items():
        sealed.put(key, secret)
    with sealed.transaction() as txn:
        txn.put("secrets/txn", b"transaction-only-" + os.urandom(16).hex().encode())
    secrets["secrets/txn"] = sealed.get("secrets/txn") or b""
    # Control: the secrets really are readable through the barrier, and the
    # check below does find plaintext that is there.
    assert sealed.get("secrets/0") == secrets["secrets/0"]
    raw.put("control", secrets["secrets/0"])
    wal = Path(f"{db}-wal")
    assert wal.exists()
    assert secrets["secrets/0"] in db.read_bytes() + wal.read_bytes()
    raw.delete("control")

    files_while_open = db.read_bytes() + wal.read_bytes()
    sealed.close()
    files_after_close = db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    # "control" was written in the clear on purpose: look for the others.
    others = {k: v for k, v in secrets.items() if k != "secrets/0"}
    _assert_absent(files_while_open, others)
    _assert_absent(files_after_close, others)


def test_postgres_rows_hold_no_plaintext(tmp_path: Path, postgres_url: str) -> None:
    table = f"test_kv_{uuid.uuid4().hex[:12]}"
    raw = PostgresStore(postgres_url, table=table)
    try:
        sealed = SealedStore(raw, open_barrier(raw, KeyFileProvider(tmp_path / "root.key")))
        secrets = _secrets()
        for key, secret in secrets.items():
            sealed.put(key, secret)
        assert sealed.get("secrets/7") == secrets["secrets/7"]
        with psycopg.connect(postgres_url) as conn:
            rows = conn.execute(f"SELECT key, value FROM {table}").fetchall()
        assert len(rows) == len(secrets) + 1  # + core/keyring
        everything = b"".join(key.encode() + bytes(value) for key, value in rows)
        _assert_absent(everything, secrets)
    finally:
        raw.close()
        drop_pg_table(postgres_url, table)
