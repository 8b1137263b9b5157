"""The platform object: everything a request may need, built once per process.

Nothing here is a module global: the server builds one Platform per worker
process, the admin CLI builds its own against the same store, and tests
build as many as they like (see :mod:`strongroom.bootstrap`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from strongroom.config import Settings

if TYPE_CHECKING:
    from strongroom.audit.trail import AuditTrail
    from strongroom.context import Authorizer
    from strongroom.crypto.barrier import Barrier
    from strongroom.events.bus import EventPublisher
    from strongroom.iam.identities import IdentityStore
    from strongroom.jobs.runner import JobRunner
    from strongroom.services.base import Service
    from strongroom.storage.base import Store


@dataclass
class Platform:
    settings: Settings
    # The sealed store: every value is encrypted by the barrier on the way in.
    store: Store
    # The same database without the barrier, for the barrier's own records and
    # for whole-store maintenance (reset, re-seal). Services never use it.
    raw_store: Store
    barrier: Barrier
    identities: IdentityStore
    authorizer: Authorizer
    clock: Callable[[], datetime]
    jobs: JobRunner
    services: dict[str, Service] = field(default_factory=dict)
    # Called after a dev-mode reset so in-memory caches forget wiped state.
    on_reset: list[Callable[[], None]] = field(default_factory=list)
    # Called first by close(), while the store is open (e.g. to write
    # in-memory counters). Hooks must not raise.
    on_close: list[Callable[[], None]] = field(default_factory=list)
    # The CloudTrail audit trail; None only when disabled (settings.audit_enabled).
    audit: AuditTrail | None = None
    # The event bus services publish to (events.bus.event_bus). The EventBridge
    # service installs its routing bus here; None means events are only
    # recorded in the store.
    events: EventPublisher | None = None

    def reset(self) -> None:
        """Wipe all state except the barrier's keyring (dev mode only)."""
        with self.raw_store.transaction() as txn:
            for key in [k for k in txn.list("") if not k.startswith("core/")]:
                txn.delete(key)
        for hook in self.on_reset:
            hook()
        self.identities.ensure_account(self.settings.default_account_id, "default")
        if self.settings.seed_file is not None:
            # The keys a --seed server starts with are part of its clean state.
            from strongroom.services.kms.seed import seed_platform

            seed_platform(self, self.settings.seed_file)

    def close(self) -> None:
        for hook in self.on_close:
            hook()
        self.jobs.stop()
        if self.audit is not None:
            self.audit.close()  # writes what is queued first
        self.raw_store.close()
