"""The event bus that services publish AWS-shaped events to.

Services (SSM Parameter Store, Secrets Manager, KMS, …) describe *what
happened* as an EventBridge event: ``source`` ("aws.ssm"), ``detail-type``
("Parameter Store Change") and a ``detail`` dict in AWS's documented shape.
Where the event goes is not their business: for now every event is appended
to the store under ``events/<account>/<region>/<time>-<tiebreak>-<id>`` (so tests and
operators can read them back, in order); when the EventBridge service is
loaded it fills in ``Platform.events`` with a subclass of
:class:`StoreEventBus` that also routes each event to matching rules (see
``events/routing.py``), without any publisher changing.

Publishing is best effort for the publisher's own operation: an event is
written in its own small transaction after the change it reports has
committed, never inside the caller's transaction (store transactions do not
nest).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from strongroom.platform import Platform
    from strongroom.storage.base import Store

EVENTS_PREFIX = "events/"


class EventPublisher(Protocol):
    def publish(
        self,
        account: str,
        region: str,
        source: str,
        detail_type: str,
        detail: Mapping[str, Any],
        resources: Sequence[str],
    ) -> str:
        """Record one event; returns its id."""


def event_time(now: datetime) -> str:
    """EventBridge's ``time``: ISO 8601 UTC to the second, with a Z."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(
    event_id: str,
    now: datetime,
    account: str,
    region: str,
    source: str,
    detail_type: str,
    detail: Mapping[str, Any],
    resources: Sequence[str],
) -> dict[str, Any]:
    """The EventBridge event structure (EventBridge User Guide, "Events")."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": event_time(now),
        "region": region,
        "resources": list(resources),
        "detail": dict(detail),
    }


def event_prefix(account: str, region: str) -> str:
    return f"{EVENTS_PREFIX}{account}/{region}/"


class StoreEventBus:
    """Appends each event to the store; keys sort by time, then id."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def publish(
        self,
        account: str,
        region: str,
        source: str,
        detail_type: str,
        detail: Mapping[str, Any],
        resources: Sequence[str],
    ) -> str:
        return str(self.record(account, region, source, detail_type, detail, resources)["id"])

    def record(
        self,
        account: str,
        region: str,
        source: str,
        detail_type: str,
        detail: Mapping[str, Any],
        resources: Sequence[str],
        event_time: datetime | None = None,
    ) -> dict[str, Any]:
        """Append one event and return its envelope (``event_time`` defaults to now;
        PutEvents entries may carry their own ``Time``)."""
        event_id = str(uuid.uuid4())
        now = self.clock()
        stamped = event_time or now
        event = envelope(event_id, stamped, account, region, source, detail_type, detail, resources)
        stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        # The monotonic counter orders events published within one clock tick.
        key = f"{event_prefix(account, region)}{stamp}-{time.monotonic_ns():020d}-{event_id}"
        self.store.put(key, json.dumps(event, separators=(",", ":")).encode())
        return event


def event_bus(platform: Platform) -> EventPublisher:
    """The platform's publisher: ``platform.events`` once the EventBridge
    service installs one, else the store-appending bus."""
    bus = platform.events
    return bus if bus is not None else StoreEventBus(platform.store, platform.clock)


def read_events(store: Store, account: str, region: str) -> list[dict[str, Any]]:
    """Every recorded event of one account and region, oldest first."""
    return [json.loads(value) for _, value in store.iter_scan(event_prefix(account, region))]
