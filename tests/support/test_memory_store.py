"""The in-memory Store passes the storage conformance checks that apply to it.

The functions are the storage suite's own (tests/storage), run here against
``MemoryStore`` so unit tests built on it see real Store semantics; the
checks about reopening, processes and leader locks across processes need a
real backend and are not repeated.
"""

from __future__ import annotations

import pytest
from tests.storage.test_store_conformance import (
    test_concurrent_transactions_from_threads_lose_nothing,
    test_get_put_overwrite_delete,
    test_iter_scan_visits_everything_once,
    test_paging_with_start_after_and_limit,
    test_prefix_boundaries,
    test_rejects_bad_keys_and_values,
    test_scan_orders_bytewise,
    test_single_put_serializes_with_transactions,
    test_transaction_commits,
    test_transaction_misuse_is_loud,
    test_transaction_rolls_back_on_error,
    test_uncommitted_writes_are_invisible_outside,
    test_values_are_opaque_bytes,
)
from tests.support.memory_store import MemoryStore

from strongroom.storage.base import Store

__all__ = [
    "test_concurrent_transactions_from_threads_lose_nothing",
    "test_get_put_overwrite_delete",
    "test_iter_scan_visits_everything_once",
    "test_paging_with_start_after_and_limit",
    "test_prefix_boundaries",
    "test_rejects_bad_keys_and_values",
    "test_scan_orders_bytewise",
    "test_single_put_serializes_with_transactions",
    "test_transaction_commits",
    "test_transaction_misuse_is_loud",
    "test_transaction_rolls_back_on_error",
    "test_uncommitted_writes_are_invisible_outside",
    "test_values_are_opaque_bytes",
]


@pytest.fixture()
def store() -> Store:
    return MemoryStore()
