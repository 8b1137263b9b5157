"""Root-key providers and opening the barrier."""

from __future__ import annotations

import base64
import json
import logging
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from strongroom.crypto.barrier import BarrierError
from strongroom.crypto.keyring import KEYRING_PATH, ROOT_SALT_PATH
from strongroom.crypto.root_key import (
    DEFAULT_KDF,
    KdfParams,
    KeyFileProvider,
    PassphraseProvider,
    open_barrier,
)
from strongroom.storage.sealed import SealedStore
from strongroom.storage.sqlite import SqliteStore

FAST_KDF = KdfParams(memory_cost_kib=1024, iterations=1, lanes=1)


def test_key_file_is_generated_private_and_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw = SqliteStore(tmp_path / "s.db")
    keyfile = tmp_path / "keys" / "root.key"
    provider = KeyFileProvider(keyfile)
    with caplog.at_level(logging.WARNING):
        barrier = open_barrier(raw, provider)
    assert provider.generated is True
    assert provider.warning is not None and "passphrase" in provider.warning
    assert any("passphrase" in r.getMessage() for r in caplog.records)
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    assert len(base64.b64decode(keyfile.read_bytes().strip())) == 32
    assert not list(keyfile.parent.glob("*.tmp"))

    SealedStore(raw, barrier).put("k", b"v")
    again = KeyFileProvider(keyfile)
    assert SealedStore(raw, open_barrier(raw, again)).get("k") == b"v"
    assert again.generated is False
    assert again.warning is not None  # a key file always warns
    raw.close()


def test_wrong_key_file_is_rejected(tmp_path: Path) -> None:
    raw = SqliteStore(tmp_path / "s.db")
    open_barrier(raw, KeyFileProvider(tmp_path / "right.key"))
    (tmp_path / "wrong.key").write_bytes(b"\x07" * 32)
    with pytest.raises(BarrierError, match="root key does not open the keyring"):
        open_barrier(raw, KeyFileProvider(tmp_path / "wrong.key"))
    with pytest.raises(BarrierError, match="not found"):
        open_barrier(raw, KeyFileProvider(tmp_path / "missing.key"))
    assert not (tmp_path / "missing.key").exists()  # never invents a key for an existing store
    (tmp_path / "short.key").write_bytes(b"abc")
    with pytest.raises(BarrierError, match="32-byte"):
        open_barrier(raw, KeyFileProvider(tmp_path / "short.key"))
    raw.close()


def test_passphrase_round_trip_and_wrong_passphrase(tmp_path: Path) -> None:
    raw = SqliteStore(tmp_path / "s.db")
    SealedStore(raw, open_barrier(raw, PassphraseProvider("hunter2", params=FAST_KDF))).put(
        "k", b"v"
    )
    record = json.loads(raw.get(ROOT_SALT_PATH) or b"")
    assert record["kdf"] == "argon2id"
    assert len(base64.b64decode(record["salt"])) == 16
    assert (record["memory_cost_kib"], record["iterations"], record["lanes"]) == (1024, 1, 1)
    assert b"hunter2" not in (raw.get(ROOT_SALT_PATH) or b"")

    reopened = open_barrier(raw, PassphraseProvider("hunter2"))  # params come from the store
    assert SealedStore(raw, reopened).get("k") == b"v"
    with pytest.raises(BarrierError, match="root key does not open the keyring"):
        open_barrier(raw, PassphraseProvider("hunter3"))
    raw.close()


def test_tampered_salt_or_keyring_is_rejected(tmp_path: Path) -> None:
    raw = SqliteStore(tmp_path / "s.db")
    open_barrier(raw, PassphraseProvider("pw", params=FAST_KDF))
    record = json.loads(raw.get(ROOT_SALT_PATH) or b"")
    good_record, good_ring = raw.get(ROOT_SALT_PATH), raw.get(KEYRING_PATH) or b""

    record["salt"] = base64.b64encode(b"\x00" * 16).decode()
    raw.put(ROOT_SALT_PATH, json.dumps(record).encode())
    with pytest.raises(BarrierError, match="does not open"):
        open_barrier(raw, PassphraseProvider("pw"))

    record["memory_cost_kib"] = 1 << 40  # a tampered record must not exhaust memory
    raw.put(ROOT_SALT_PATH, json.dumps(record).encode())
    with pytest.raises(BarrierError, match="out of range"):
        open_barrier(raw, PassphraseProvider("pw"))

    raw.put(ROOT_SALT_PATH, good_record or b"")
    ring = bytearray(good_ring)
    ring[20] ^= 1
    raw.put(KEYRING_PATH, bytes(ring))
    with pytest.raises(BarrierError):
        open_barrier(raw, PassphraseProvider("pw"))
    raw.close()


def test_providers_do_not_mix(tmp_path: Path) -> None:
    raw = SqliteStore(tmp_path / "s.db")
    open_barrier(raw, KeyFileProvider(tmp_path / "root.key"))
    with pytest.raises(BarrierError, match="not initialised with a passphrase"):
        open_barrier(raw, PassphraseProvider("pw"))
    raw.close()


def test_rekey_from_passphrase_to_key_file(tmp_path: Path) -> None:
    raw = SqliteStore(tmp_path / "s.db")
    barrier = open_barrier(raw, PassphraseProvider("pw", params=FAST_KDF))
    SealedStore(raw, barrier).put("k", b"v")
    barrier.rekey(KeyFileProvider(tmp_path / "new.key"))
    assert raw.get(ROOT_SALT_PATH) is None
    reopened = open_barrier(raw, KeyFileProvider(tmp_path / "new.key"))
    assert SealedStore(raw, reopened).get("k") == b"v"
    raw.close()


def test_default_kdf_is_memory_hard_and_under_a_second(tmp_path: Path) -> None:
    assert DEFAULT_KDF.memory_cost_kib >= 64 * 1024
    assert DEFAULT_KDF.iterations >= 3
    raw = SqliteStore(tmp_path / "s.db")
    started = time.perf_counter()
    open_barrier(raw, PassphraseProvider("a passphrase"))
    assert time.perf_counter() - started < 1.0
    raw.close()


def test_two_processes_initialising_at_once_share_one_keyring(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    SqliteStore(db).close()  # schema exists; the keyring does not
    code = (
        "import sys\n"
        "from strongroom.crypto.root_key import KdfParams, PassphraseProvider, open_barrier\n"
        "from strongroom.storage.sealed import SealedStore\n"
        "from strongroom.storage.sqlite import SqliteStore\n"
        f"raw = SqliteStore({str(db)!r})\n"
        "p = PassphraseProvider('pw', params=KdfParams(1024, 1, 1))\n"
        "SealedStore(raw, open_barrier(raw, p)).put('from/' + sys.argv[1], b'hello')\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(i)], stderr=subprocess.PIPE, text=True)
        for i in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    raw = SqliteStore(db)
    sealed = SealedStore(raw, open_barrier(raw, PassphraseProvider("pw")))
    # Had two processes each created a keyring, one's value would not open.
    assert sealed.scan("from/") == [(f"from/{i}", b"hello") for i in range(3)]
    raw.close()
