"""Every Store behaviour, run against every backend (see conftest.py)."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from strongroom.storage.base import Store

# Deliberately awkward keys: separators, a key that is a prefix of others,
# characters from every UTF-8 length, the highest code point.
AWKWARD_KEYS = [
    "a",
    "a/",
    "a/b",
    "a/b/c",
    "a.b",
    "a0",
    "A",
    "z",
    "\u00e9",  # 2 bytes in UTF-8
    "\u00ff/x",
    "\u4e2d\u6587",  # 3 bytes
    "\uffff",
    "\U0001f600",  # 4 bytes; sorts after U+FFFF bytewise (not in UTF-16 order)
    "\U0010ffff",
    "a/\U0010ffff",
    "a/\U0010ffff/z",
    "b/ space/\ttab",
]


def bytewise(keys: list[str]) -> list[str]:
    return sorted(keys, key=lambda k: k.encode())


def test_get_put_overwrite_delete(store: Store) -> None:
    assert store.get("svc/x") is None
    store.put("svc/x", b"one")
    assert store.get("svc/x") == b"one"
    store.put("svc/x", b"two")
    assert store.get("svc/x") == b"two"
    assert store.delete("svc/x") is True
    assert store.get("svc/x") is None
    assert store.delete("svc/x") is False


def test_values_are_opaque_bytes(store: Store) -> None:
    big = random.randbytes(1 << 20)
    store.put("v/empty", b"")
    store.put("v/nul", b"\x00\x01\x00\xff")
    store.put("v/big", big)
    assert store.get("v/empty") == b""
    assert store.get("v/nul") == b"\x00\x01\x00\xff"
    assert store.get("v/big") == big


def test_rejects_bad_keys_and_values(store: Store) -> None:
    with pytest.raises(TypeError):
        store.put("k", "not bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.put("bad\x00key", b"v")
    with pytest.raises(ValueError):
        store.put("", b"v")
    assert store.scan("") == []


def test_scan_orders_bytewise(store: Store) -> None:
    shuffled = AWKWARD_KEYS[:]
    random.shuffle(shuffled)
    for key in shuffled:
        store.put(key, key.encode())
    rows = store.scan("")
    assert [k for k, _ in rows] == bytewise(AWKWARD_KEYS)
    assert all(v == k.encode() for k, v in rows)


def test_prefix_boundaries(store: Store) -> None:
    for key in AWKWARD_KEYS:
        store.put(key, b"v")
    assert store.list("a/") == ["a/", "a/b", "a/b/c", "a/\U0010ffff", "a/\U0010ffff/z"]
    assert store.list("a/b") == ["a/b", "a/b/c"]
    assert store.list("a/b/") == ["a/b/c"]
    assert store.list("a/\U0010ffff") == ["a/\U0010ffff", "a/\U0010ffff/z"]
    assert store.list("a") == bytewise([k for k in AWKWARD_KEYS if k.startswith("a")])
    assert store.list("\U0010ffff") == ["\U0010ffff"]
    assert store.list("nope/") == []


def test_paging_with_start_after_and_limit(store: Store) -> None:
    keys = [f"p/{i:03d}" for i in range(25)]
    for key in keys:
        store.put(key, b"v")
    store.put("p0", b"outside")
    store.put("o/before", b"outside")
    assert store.list("p/", limit=10) == keys[:10]
    assert store.list("p/", start_after=keys[9], limit=10) == keys[10:20]
    assert store.list("p/", start_after=keys[19], limit=10) == keys[20:]
    assert store.list("p/", start_after=keys[24]) == []
    # start_after need not exist, and may lie before the prefix range
    assert store.list("p/", start_after="p/0045") == keys[5:]
    assert store.list("p/", start_after="a", limit=2) == keys[:2]
    assert store.list("p/", limit=0) == []


def test_iter_scan_visits_everything_once(store: Store) -> None:
    keys = [f"it/{i:04d}" for i in range(53)]
    for key in keys:
        store.put(key, key.encode())
    store.put("iu", b"outside")
    seen = list(store.iter_scan("it/", page=7))
    assert [k for k, _ in seen] == keys
    assert all(v == k.encode() for k, v in seen)


def test_transaction_commits(store: Store) -> None:
    store.put("t/a", b"1")
    with store.transaction() as txn:
        assert txn.get("t/a") == b"1"
        txn.put("t/a", b"2")
        txn.put("t/b", b"new")
        assert txn.get("t/a") == b"2"
        assert txn.list("t/") == ["t/a", "t/b"]
        assert txn.delete("t/b") is True
        txn.put("t/c", b"c")
    assert store.get("t/a") == b"2"
    assert store.get("t/b") is None
    assert store.list("t/") == ["t/a", "t/c"]


def test_transaction_rolls_back_on_error(store: Store) -> None:
    store.put("r/a", b"1")
    store.put("r/b", b"keep")
    with pytest.raises(KeyError), store.transaction() as txn:
        txn.put("r/a", b"2")
        txn.put("r/new", b"x")
        txn.delete("r/b")
        raise KeyError("boom")
    assert store.get("r/a") == b"1"
    assert store.get("r/new") is None
    assert store.get("r/b") == b"keep"


def test_uncommitted_writes_are_invisible_outside(store: Store) -> None:
    store.put("i/a", b"old")
    with store.transaction() as txn:
        txn.put("i/a", b"new")
        # Same thread, outside the Txn (another coroutine on the event loop).
        assert store.get("i/a") == b"old"
    assert store.get("i/a") == b"new"


def test_transaction_misuse_is_loud(store: Store) -> None:
    with store.transaction() as txn:
        with pytest.raises(RuntimeError):
            store.put("m/a", b"would deadlock")
        with pytest.raises(RuntimeError), store.transaction():
            pass
    with pytest.raises(RuntimeError):
        txn.get("m/a")
    # the store is still usable afterwards
    store.put("m/a", b"ok")
    assert store.get("m/a") == b"ok"


def _increment(txn_store: Store, key: str) -> None:
    with txn_store.transaction() as txn:
        current = int(txn.get(key) or b"0")
        txn.put(key, str(current + 1).encode())


def test_concurrent_transactions_from_threads_lose_nothing(store: Store) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(25):
                _increment(store, "counter")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.get("counter") == b"100"


def test_single_put_serializes_with_transactions(store: Store) -> None:
    """A plain put landing mid read-modify-write must not be lost."""
    store.put("s/n", b"1")
    read_done = threading.Event()
    put_done = threading.Event()

    def plain_put() -> None:
        read_done.wait()
        store.put("s/n", b"100")
        put_done.set()

    other = threading.Thread(target=plain_put)
    other.start()
    with store.transaction() as txn:
        value = int(txn.get("s/n") or b"0")
        read_done.set()
        # The plain put must wait for this transaction, not slip in now.
        assert not put_done.wait(0.3)
        txn.put("s/n", str(value + 1).encode())
    other.join()
    assert store.get("s/n") == b"100"


def test_data_survives_reopen(backend: Any) -> None:
    first = backend.open()
    first.put("d/a", b"kept")
    with first.transaction() as txn:
        txn.put("d/b", b"also kept")
    first.close()
    again = backend.open()
    assert again.get("d/a") == b"kept"
    assert again.get("d/b") == b"also kept"


def test_two_instances_see_each_others_writes(backend: Any) -> None:
    one, two = backend.open(), backend.open()
    one.put("x/a", b"1")
    assert two.get("x/a") == b"1"
    with two.transaction() as txn:
        txn.put("x/a", b"2")
    assert one.get("x/a") == b"2"


def test_leader_lock_is_exclusive(backend: Any) -> None:
    one, two = backend.open(), backend.open()
    a, b = one.leader_lock("jobs"), two.leader_lock("jobs")
    other_name = two.leader_lock("audit")
    try:
        assert a.try_acquire() is True
        assert a.held
        assert a.try_acquire() is True  # re-entrant for its holder
        assert b.try_acquire() is False
        assert not b.held
        assert other_name.try_acquire() is True  # names are independent
        a.release()
        assert not a.held
        assert b.try_acquire() is True
        assert a.try_acquire() is False
    finally:
        for lock in (a, b, other_name):
            lock.release()


def test_leader_lock_rejects_odd_names(store: Store) -> None:
    with pytest.raises(ValueError):
        store.leader_lock("../escape")
