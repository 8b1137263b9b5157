"""Client-side helpers for applications that read secrets."""

from strongroom.client.cache import SecretCache, SecretCacheConfig, SecretCacheHook

__all__ = ["SecretCache", "SecretCacheConfig", "SecretCacheHook"]
