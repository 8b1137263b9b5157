"""SecretCache: TTL, refresh, version stages, error backoff, size bound, hooks, threads."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from strongroom.client import SecretCache, SecretCacheConfig


class FakeClient:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.values: dict[tuple[str, str], Any] = {}
        self.fail: Exception | None = None
        self.delay = 0.0

    def get_secret_value(self, SecretId: str, VersionStage: str) -> dict[str, Any]:
        self.calls.append((SecretId, VersionStage))
        if self.delay:
            time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        value = self.values[(SecretId, VersionStage)]
        key = "SecretBinary" if isinstance(value, bytes) else "SecretString"
        return {"Name": SecretId, key: value, "ResponseMetadata": {"HTTPStatusCode": 200}}


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _cache(client: FakeClient, clock: Clock, **config: Any) -> SecretCache:
    return SecretCache(SecretCacheConfig(**config), client, monotonic=clock)


def test_values_are_cached_for_the_refresh_interval() -> None:
    client, clock = FakeClient(), Clock()
    client.values[("db", "AWSCURRENT")] = "one"
    cache = _cache(client, clock, secret_refresh_interval=60)
    assert cache.get_secret_string("db") == "one"
    client.values[("db", "AWSCURRENT")] = "two"
    clock.t += 59
    assert cache.get_secret_string("db") == "one"
    assert len(client.calls) == 1
    clock.t += 2
    assert cache.get_secret_string("db") == "two"
    assert len(client.calls) == 2
    assert "ResponseMetadata" not in cache.get_secret_value("db")


def test_version_stages_are_separate_entries() -> None:
    client, clock = FakeClient(), Clock()
    client.values[("db", "AWSCURRENT")] = "new"
    client.values[("db", "AWSPREVIOUS")] = "old"
    client.values[("bin", "AWSCURRENT")] = b"\x00\x01"
    cache = _cache(client, clock)
    assert cache.get_secret_string("db") == "new"
    assert cache.get_secret_string("db", "AWSPREVIOUS") == "old"
    assert cache.get_secret_binary("bin") == b"\x00\x01"
    assert cache.get_secret_string("bin") is None


def test_refresh_now_and_invalidate() -> None:
    client, clock = FakeClient(), Clock()
    client.values[("db", "AWSCURRENT")] = "one"
    cache = _cache(client, clock)
    cache.get_secret_string("db")
    client.values[("db", "AWSCURRENT")] = "two"
    cache.refresh_secret_now("db")
    assert cache.get_secret_string("db") == "two"
    cache.invalidate("db")
    assert len(cache) == 0


def test_errors_back_off_exponentially() -> None:
    client, clock = FakeClient(), Clock()
    client.fail = RuntimeError("service down")
    cache = _cache(client, clock, exception_retry_delay_base=1, exception_retry_growth_factor=2)
    for _ in range(3):
        with pytest.raises(RuntimeError):
            cache.get_secret_string("db")
    assert len(client.calls) == 1  # within the 1 s backoff the error is replayed
    clock.t += 1.01
    with pytest.raises(RuntimeError):
        cache.get_secret_string("db")
    assert len(client.calls) == 2
    clock.t += 1.5  # the second backoff is 2 s
    with pytest.raises(RuntimeError):
        cache.get_secret_string("db")
    assert len(client.calls) == 2
    client.fail = None
    client.values[("db", "AWSCURRENT")] = "back"
    clock.t += 1
    assert cache.get_secret_string("db") == "back"


def test_size_is_bounded() -> None:
    client, clock = FakeClient(), Clock()
    for i in range(5):
        client.values[(f"s{i}", "AWSCURRENT")] = str(i)
    cache = _cache(client, clock, max_cache_size=3)
    for i in range(5):
        cache.get_secret_string(f"s{i}")
    assert len(cache) == 3
    cache.get_secret_string("s0")
    assert client.calls.count(("s0", "AWSCURRENT")) == 2


def test_hook_transforms_what_is_kept() -> None:
    class Hook:
        def __init__(self) -> None:
            self.stored: list[Any] = []

        def put(self, obj: dict[str, Any]) -> Any:
            wrapped = ("sealed", dict(obj))
            self.stored.append(wrapped)
            return wrapped

        def get(self, cached: Any) -> dict[str, Any]:
            return dict(cached[1])

    client, clock = FakeClient(), Clock()
    client.values[("db", "AWSCURRENT")] = "v"
    hook = Hook()
    cache = _cache(client, clock, secret_cache_hook=hook)
    assert cache.get_secret_string("db") == "v"
    assert cache.get_secret_string("db") == "v"
    assert len(hook.stored) == 1


def test_concurrent_misses_fetch_once() -> None:
    client = FakeClient()
    client.values[("db", "AWSCURRENT")] = "v"
    client.delay = 0.05
    cache = SecretCache(SecretCacheConfig(), client)
    results: list[str | None] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_secret_string("db")))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["v"] * 8
    assert len(client.calls) == 1
