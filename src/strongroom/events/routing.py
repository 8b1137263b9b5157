"""The routing bus: record every event, then hand it to the matching rules.

Installed as ``platform.events`` by the EventBridge service, so events that
SSM, Secrets Manager (and later others) publish, and those PutEvents
accepts, take the same path. Routing never sends anything over the network:
a log target is appended in the same small transaction as the HTTP
deliveries are enqueued (outbox records the delivery worker sends later),
so a slow endpoint can never slow a request.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from strongroom.events.bus import StoreEventBus
from strongroom.events.delivery import DEFAULT_RETRIES, outbox_key
from strongroom.events.pattern import InvalidPattern, Pattern, matches, parse_pattern
from strongroom.events.rules import DEFAULT_BUS, ENABLED, Rule, rules_of_bus
from strongroom.events.targets import (
    HttpTarget,
    LogTarget,
    append_log,
    parse_target_arn,
    select_input,
)
from strongroom.storage.base import Store, Txn

log = logging.getLogger("strongroom.events")


@lru_cache(maxsize=2048)
def cached_pattern(text: str) -> Pattern | None:
    """Patterns were validated by PutRule; a stored one that no longer parses
    (a newer validator) simply matches nothing."""
    try:
        return parse_pattern(text)
    except InvalidPattern:
        return None


def stamp_of(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


class RoutingBus(StoreEventBus):
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        super().__init__(store, clock)

    def publish(
        self,
        account: str,
        region: str,
        source: str,
        detail_type: str,
        detail: Mapping[str, Any],
        resources: Sequence[str],
    ) -> str:
        event = self.record(account, region, source, detail_type, detail, resources)
        self.route(event)
        return str(event["id"])

    def route(self, event: dict[str, Any]) -> int:
        """Apply every enabled rule of the default bus; returns how many matched.

        A failure here is logged, not raised: the event itself is recorded
        and the publisher's change has committed already.
        """
        try:
            return self._route(event)
        except Exception:
            log.exception("routing event %s failed", event.get("id"))
            return 0

    def _route(self, event: dict[str, Any]) -> int:
        account, region = str(event["account"]), str(event["region"])
        matched = [
            rule
            for rule in rules_of_bus(self.store, account, region, DEFAULT_BUS)
            if rule.state.startswith(ENABLED)
            and rule.event_pattern
            and rule.targets
            and (pattern := cached_pattern(rule.event_pattern)) is not None
            and matches(pattern, event)
        ]
        if not matched:
            return 0
        now = self.clock()
        stamp = stamp_of(now)
        with self.store.transaction() as txn:
            for rule in matched:
                for target in rule.targets:
                    self._deliver(txn, rule, target, event, now, stamp)
        return len(matched)

    def _deliver(
        self,
        txn: Txn,
        rule: Rule,
        target: dict[str, Any],
        event: dict[str, Any],
        now: datetime,
        stamp: str,
    ) -> None:
        kind = parse_target_arn(str(target["Arn"]))
        if isinstance(kind, LogTarget):
            record = {"rule": rule.arn, "target": target["Id"], "event": event}
            append_log(txn, rule.account, rule.region, kind.group, stamp, record)
        elif isinstance(kind, HttpTarget):
            retry = target.get("RetryPolicy") or {}
            delivery = {
                "id": str(uuid.uuid4()),
                "account": rule.account,
                "region": rule.region,
                "bus": rule.bus,
                "rule": rule.name,
                "rule_arn": rule.arn,
                "target": target["Id"],
                "url": kind.url,
                "http": target.get("HttpParameters") or {},
                "event_id": event["id"],
                "body": select_input(target, event),
                "attempt": 0,
                "max_retries": int(retry.get("MaximumRetryAttempts", DEFAULT_RETRIES)),
                "max_age": retry.get("MaximumEventAgeInSeconds"),
                "created": now.timestamp(),
            }
            txn.put(outbox_key(now, str(delivery["id"])), json.dumps(delivery).encode())
