"""Storage: one small interface, several backends, one conformance suite."""

from strongroom.storage.base import LeaderLock, Store, Txn

__all__ = ["LeaderLock", "Store", "Txn"]
