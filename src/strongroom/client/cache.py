"""SecretCache: a client-side cache of secret values, like AWS's caching client.

The equivalent of ``aws_secretsmanager_caching.SecretCache`` for any boto3
Secrets Manager client (pointed at Strongroom or at AWS): values are kept in
memory for ``secret_refresh_interval`` seconds per (secret, version stage),
so an application reading a secret on every request calls the service once
an interval instead. A failed refresh is remembered and raised again until
an exponential backoff has passed, so a failing service is not hammered.

A cache hit is a dictionary lookup and a clock read, without a lock; only a
refresh takes the per-key lock, so concurrent readers of an expired secret
cause one GetSecretValue, not one each. ``secret_cache_hook`` lets the
application transform what is kept (for example, encrypt it in memory).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class SecretCacheHook(Protocol):
    def put(self, obj: dict[str, Any]) -> Any:
        """What to keep for a fetched GetSecretValue response."""

    def get(self, cached: Any) -> dict[str, Any]:
        """The response back from what ``put`` returned."""


@dataclass(frozen=True)
class SecretCacheConfig:
    max_cache_size: int = 1024
    exception_retry_delay_base: float = 1.0
    exception_retry_growth_factor: float = 2.0
    exception_retry_delay_max: float = 3600.0
    default_version_stage: str = "AWSCURRENT"
    secret_refresh_interval: float = 3600.0
    secret_cache_hook: SecretCacheHook | None = None


@dataclass
class _Entry:
    expires: float = 0.0
    value: Any = None
    error: BaseException | None = None
    retry_at: float = 0.0
    failures: int = 0


class SecretCache:
    def __init__(
        self,
        config: SecretCacheConfig | None = None,
        client: Any = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if client is None:
            import boto3

            client = boto3.client("secretsmanager")
        self.config = config or SecretCacheConfig()
        self.client = client
        self._monotonic = monotonic
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    # -- public API (the names of AWS's caching client) ---------------------------

    def get_secret_string(self, secret_id: str, version_stage: str | None = None) -> str | None:
        value = self.get_secret_value(secret_id, version_stage).get("SecretString")
        return None if value is None else str(value)

    def get_secret_binary(self, secret_id: str, version_stage: str | None = None) -> bytes | None:
        value = self.get_secret_value(secret_id, version_stage).get("SecretBinary")
        return None if value is None else bytes(value)

    def get_secret_value(self, secret_id: str, version_stage: str | None = None) -> dict[str, Any]:
        key = (secret_id, version_stage or self.config.default_version_stage)
        entry = self._entries.get(key)
        now = self._monotonic()
        if entry is not None and entry.error is None and entry.expires > now:
            return self._unwrap(entry.value)  # the hit path
        return self._refresh(key, force=False)

    def refresh_secret_now(self, secret_id: str, version_stage: str | None = None) -> None:
        self._refresh((secret_id, version_stage or self.config.default_version_stage), force=True)

    def invalidate(self, secret_id: str | None = None) -> None:
        with self._guard:
            for key in [k for k in self._entries if secret_id is None or k[0] == secret_id]:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    # -- internals -------------------------------------------------------------------

    def _unwrap(self, stored: Any) -> dict[str, Any]:
        hook = self.config.secret_cache_hook
        return hook.get(stored) if hook is not None else dict(stored)

    def _lock_for(self, key: tuple[str, str]) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def _refresh(self, key: tuple[str, str], *, force: bool) -> dict[str, Any]:
        with self._lock_for(key):
            now = self._monotonic()
            entry = self._entries.get(key)
            if entry is not None and not force:
                if entry.error is None and entry.expires > now:
                    return self._unwrap(entry.value)  # another thread refreshed it
                if entry.error is not None and entry.retry_at > now:
                    raise entry.error
            entry = entry or _Entry()
            try:
                response = self.client.get_secret_value(SecretId=key[0], VersionStage=key[1])
            except Exception as exc:
                entry.failures += 1
                entry.error = exc
                delay = self.config.exception_retry_delay_base * (
                    self.config.exception_retry_growth_factor ** (entry.failures - 1)
                )
                entry.retry_at = now + min(delay, self.config.exception_retry_delay_max)
                self._store(key, entry)
                raise
            response = {k: v for k, v in response.items() if k != "ResponseMetadata"}
            hook = self.config.secret_cache_hook
            entry.value = hook.put(response) if hook is not None else response
            entry.error, entry.failures = None, 0
            entry.expires = now + self.config.secret_refresh_interval
            self._store(key, entry)
            return self._unwrap(entry.value)

    def _store(self, key: tuple[str, str], entry: _Entry) -> None:
        with self._guard:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.config.max_cache_size:
                old, _ = self._entries.popitem(last=False)
                self._locks.pop(old, None)
