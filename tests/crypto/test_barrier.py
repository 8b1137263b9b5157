"""The barrier: authenticated sealing bound to the path, rotation, re-sealing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.crypto.barrier import Barrier, BarrierError
from strongroom.crypto.keyring import KEYRING_PATH, Keyring
from strongroom.crypto.root_key import KdfParams, PassphraseProvider, open_barrier
from strongroom.storage.sealed import SealedStore
from strongroom.storage.sqlite import SqliteStore

FAST_KDF = KdfParams(memory_cost_kib=1024, iterations=1, lanes=1)


@pytest.fixture
def raw(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "b.db")
    yield store
    store.close()


def _open(raw: SqliteStore, passphrase: str = "correct horse", **kw: float) -> Barrier:
    return open_barrier(raw, PassphraseProvider(passphrase, params=FAST_KDF), **kw)


def test_seal_layout_and_round_trip(raw: SqliteStore) -> None:
    barrier = _open(raw)
    blob = barrier.seal("svc/a", b"hello")
    assert blob[0] == 1
    assert int.from_bytes(blob[1:5], "big") == barrier.active_term == 1
    assert len(blob) == 1 + 4 + 12 + len(b"hello") + 16
    assert barrier.open("svc/a", blob) == b"hello"
    assert barrier.seal("svc/a", b"hello") != blob  # fresh nonce every time
    assert barrier.open("svc/e", barrier.seal("svc/e", b"")) == b""


def test_seal_many_seals_each_value_as_seal_does(raw: SqliteStore) -> None:
    barrier = _open(raw)
    items = [(f"audit/{n}", f"body {n}".encode()) for n in range(400)] + [("audit/e", b"")]
    blobs = barrier.seal_many(items)
    assert [barrier.open(path, blob) for (path, _), blob in zip(items, blobs, strict=True)] == [
        plaintext for _, plaintext in items
    ]
    assert len({blob[5:17] for blob in blobs}) == len(blobs)  # a nonce of its own each
    assert all(len(b) == len(barrier.seal(p, v)) for (p, v), b in zip(items, blobs, strict=True))
    with pytest.raises(BarrierError):
        barrier.open("audit/1", blobs[0])  # bound to its own path
    assert barrier.seal_many([]) == []


def test_every_tampered_byte_is_detected(raw: SqliteStore) -> None:
    barrier = _open(raw)
    blob = barrier.seal("svc/a", b"secret value")
    for i in range(len(blob)):
        for bit in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[i] ^= bit
            with pytest.raises(BarrierError):
                barrier.open("svc/a", bytes(tampered))
    for cut in (0, 5, 32, len(blob) - 1):
        with pytest.raises(BarrierError):
            barrier.open("svc/a", blob[:cut])
    with pytest.raises(BarrierError):
        barrier.open("svc/a", blob + b"\x00")


def test_value_moved_to_another_path_does_not_open(raw: SqliteStore) -> None:
    sealed = SealedStore(raw, _open(raw))
    sealed.put("secrets/alice", b"alice's secret")
    raw.put("secrets/mallory", raw.get("secrets/alice") or b"")
    with pytest.raises(BarrierError, match="secrets/mallory"):
        sealed.get("secrets/mallory")
    with pytest.raises(BarrierError):
        sealed.scan("secrets/")
    assert sealed.get("secrets/alice") == b"alice's secret"


def test_error_messages_hold_no_plaintext(raw: SqliteStore) -> None:
    barrier = _open(raw)
    blob = bytearray(barrier.seal("k", b"TOPSECRET"))
    blob[-1] ^= 1
    with pytest.raises(BarrierError) as info:
        barrier.open("k", bytes(blob))
    assert "TOPSECRET" not in str(info.value)


def test_reserved_keys_are_not_reachable_through_the_sealed_store(raw: SqliteStore) -> None:
    sealed = SealedStore(raw, _open(raw))
    for call in (
        lambda: sealed.get(KEYRING_PATH),
        lambda: sealed.put("core/anything", b"x"),
        lambda: sealed.delete(KEYRING_PATH),
        lambda: sealed.scan("core/"),
    ):
        with pytest.raises(ValueError, match="reserved"):
            call()
    # Scans that span core/ leave it out, and paging still sees every key.
    for key in ("a", "co", "core", "core0", "d"):
        sealed.put(key, key.encode())
    assert sealed.list("") == ["a", "co", "core", "core0", "d"]
    assert sealed.list("co") == ["co", "core", "core0"]
    assert [k for k, _ in sealed.iter_scan("", page=1)] == ["a", "co", "core", "core0", "d"]
    assert sealed.list("", start_after="core", limit=2) == ["core0", "d"]


def test_rotation_keeps_old_terms_readable(raw: SqliteStore) -> None:
    barrier = _open(raw)
    sealed = SealedStore(raw, barrier)
    sealed.put("old", b"written under term 1")
    assert barrier.rotate() == 2
    sealed.put("new", b"written under term 2")
    assert Barrier.term_of(raw.get("old") or b"") == 1
    assert Barrier.term_of(raw.get("new") or b"") == 2
    assert sealed.get("old") == b"written under term 1"
    assert sealed.get("new") == b"written under term 2"
    assert barrier.terms == (1, 2)
    # A fresh process sees the rotated keyring.
    assert _open(raw).active_term == 2


def test_other_node_learns_rotation_on_read_and_on_refresh(raw: SqliteStore) -> None:
    now = [0.0]
    node_a = _open(raw)
    node_b = open_barrier(
        raw, PassphraseProvider("correct horse", params=FAST_KDF), refresh_interval=5.0
    )
    node_b._clock = lambda: now[0]  # drive node B's refresh clock by hand
    node_b._next_refresh = 5.0
    sealed_b = SealedStore(raw, node_b)

    node_a.rotate()
    SealedStore(raw, node_a).put("from/a", b"term 2 value")
    # Reading an unknown term makes B reload the keyring once.
    assert sealed_b.get("from/a") == b"term 2 value"
    assert node_b.active_term == 2

    node_a.rotate()  # term 3; B writes term 2 until its refresh is due
    sealed_b.put("from/b1", b"x")
    assert Barrier.term_of(raw.get("from/b1") or b"") == 2
    now[0] = 5.1
    sealed_b.put("from/b2", b"y")
    assert Barrier.term_of(raw.get("from/b2") or b"") == 3


def test_concurrent_rotations_both_take_effect(raw: SqliteStore) -> None:
    one, two = _open(raw), _open(raw)
    assert one.rotate() == 2
    assert two.rotate() == 3  # read the stored keyring, not its stale copy
    assert _open(raw).terms == (1, 2, 3)


def test_unknown_term_is_an_error(raw: SqliteStore) -> None:
    barrier = _open(raw)
    blob = bytearray(barrier.seal("k", b"v"))
    blob[1:5] = (77).to_bytes(4, "big")
    with pytest.raises(BarrierError, match="unknown keyring term 77"):
        barrier.open("k", bytes(blob))


def test_reseal_all_moves_everything_to_the_active_term(raw: SqliteStore) -> None:
    barrier = _open(raw)
    sealed = SealedStore(raw, barrier)
    values = {f"svc/{i:03d}": f"value {i}".encode() for i in range(23)}
    for key, value in values.items():
        sealed.put(key, value)
    barrier.rotate()
    sealed.put("svc/already-new", b"term 2")
    values["svc/already-new"] = b"term 2"

    # A node that has not noticed the rotation writes term 1 meanwhile; the
    # final pass, after the settle wait, must catch it.
    stale = _open(raw)
    stale._ring = Keyring({1: stale._ring.terms[1]}, 1)

    def write_stale(_: float) -> None:
        raw.put("svc/straggler", stale.seal("svc/straggler", b"late write"))

    report = barrier.reseal_all(raw, batch=5, settle=0.5, sleep=write_stale)
    values["svc/straggler"] = b"late write"
    assert report.passes == 2
    assert report.resealed == 23 + 1
    for key, value in values.items():
        blob = raw.get(key) or b""
        assert Barrier.term_of(blob) == 2, key
        assert sealed.get(key) == value
    assert raw.get(KEYRING_PATH) is not None  # core/ left alone
    again = barrier.reseal_all(raw, settle=0)
    assert again.resealed == 0


def test_rekey_rewraps_the_keyring_only(raw: SqliteStore) -> None:
    barrier = _open(raw, "old passphrase")
    sealed = SealedStore(raw, barrier)
    sealed.put("k", b"v")
    blob_before = raw.get("k")
    salt_before = raw.get("core/root-salt")
    barrier.rekey(PassphraseProvider("new passphrase", params=FAST_KDF))
    assert raw.get("k") == blob_before  # data not re-encrypted
    assert raw.get("core/root-salt") != salt_before  # fresh salt
    with pytest.raises(BarrierError, match="root key does not open the keyring"):
        _open(raw, "old passphrase")
    reopened = SealedStore(raw, _open(raw, "new passphrase"))
    assert reopened.get("k") == b"v"
    # The re-keyed barrier keeps working, including rotation.
    assert barrier.rotate() == 2
    assert _open(raw, "new passphrase").active_term == 2


def test_stale_node_survives_a_rekey_elsewhere(raw: SqliteStore) -> None:
    node_a = _open(raw, "old")
    node_b = _open(raw, "old", refresh_interval=0.0)
    node_a.rekey(PassphraseProvider("new", params=FAST_KDF))
    sealed_b = SealedStore(raw, node_b)
    sealed_b.put("k", b"still works")  # refresh fails to open, keeps its keyring
    assert SealedStore(raw, node_a).get("k") == b"still works"
