"""strongroom.storage.ttl_cache: answers reused for the TTL, misses too, cleared on
demand; a CachedRepository clears its caches after every write made through it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.support.memory_store import MemoryStore

from strongroom.storage.base import Txn
from strongroom.storage.ttl_cache import CachedRepository, TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Source:
    """A loader that counts its calls and answers from a dict (None when absent)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, ...], str] = {}
        self.loads = 0

    def __call__(self, *key: str) -> str | None:
        self.loads += 1
        return self.rows.get(key)


def test_answer_is_reused_until_the_ttl_passes() -> None:
    clock, source = Clock(), Source()
    cache: TtlCache[str | None] = TtlCache(source, ttl=2.0, monotonic=clock)
    source.rows[("a", "r", "k")] = "one"
    assert cache.get("a", "r", "k") == "one"
    source.rows[("a", "r", "k")] = "two"  # changed on "another node"
    clock.now += 1.9
    assert cache.get("a", "r", "k") == "one"
    clock.now += 0.1  # exactly ttl later the answer is stale
    assert cache.get("a", "r", "k") == "two"
    assert source.loads == 2


def test_misses_are_cached_and_keys_are_distinct() -> None:
    clock, source = Clock(), Source()
    cache: TtlCache[str | None] = TtlCache(source, ttl=2.0, monotonic=clock)
    assert cache.get("a", "r", "missing") is None
    assert cache.get("a", "r", "missing") is None
    assert source.loads == 1
    source.rows[("b", "r", "missing")] = "other account"
    assert cache.get("b", "r", "missing") == "other account"
    assert source.loads == 2


def test_clear_forgets_everything_at_once() -> None:
    clock, source = Clock(), Source()
    cache: TtlCache[str | None] = TtlCache(source, ttl=2.0, monotonic=clock)
    source.rows[("a", "r", "k")] = "one"
    cache.get("a", "r", "k")
    source.rows[("a", "r", "k")] = "two"  # a local write, then its clear()
    cache.clear()
    assert len(cache) == 0
    assert cache.get("a", "r", "k") == "two"


def test_size_is_bounded() -> None:
    clock, source = Clock(), Source()
    cache: TtlCache[str | None] = TtlCache(source, ttl=2.0, monotonic=clock, max_entries=3)
    for i in range(10):
        cache.get("a", "r", f"invented-{i}")
        assert len(cache) <= 3
    assert cache.get("a", "r", "invented-9") is None
    assert source.loads == 10  # the newest key survived the last drop


class View:
    def __init__(self, txn: Txn) -> None:
        self.txn = txn

    def put(self, key: str, value: str) -> None:
        self.txn.put(key, value.encode())


class Repo(CachedRepository[View]):
    default_ttl = 5.0

    def make_caches(self) -> None:
        self.loads = 0
        self.value: Callable[[str], str | None] = self.cached(self._load)

    def wrap(self, txn: Txn) -> View:
        return View(txn)

    def _load(self, key: str) -> str | None:
        self.loads += 1
        raw = self.store.get(key)
        return None if raw is None else raw.decode()


def test_repository_writes_clear_its_caches_even_when_they_fail() -> None:
    clock = Clock()
    repo = Repo(MemoryStore(), monotonic=clock)
    assert repo.cache_ttl == 5.0
    assert repo.value("k/a") is None
    repo.store.put("k/a", b"behind its back")  # as another node would
    assert repo.value("k/a") is None  # still the cached miss
    with repo.write() as view:
        view.put("k/b", "one")
    assert repo.value("k/a") == "behind its back"
    assert repo.value("k/b") == "one"
    loads = repo.loads
    with pytest.raises(RuntimeError), repo.write() as view:
        view.put("k/b", "two")
        raise RuntimeError("rolled back")
    assert repo.value("k/b") == "one"  # reloaded (cleared), and the write was rolled back
    assert repo.loads == loads + 1
    assert repo.read().txn is repo.store
    assert Repo(MemoryStore(), cache_ttl=0.5).cache_ttl == 0.5
