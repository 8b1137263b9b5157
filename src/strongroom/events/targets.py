"""What a target ARN names, and the records targets leave in the store.

Two kinds of target are delivered (see docs/design/events.md):

* ``strongroom:http:<http or https URL>`` — an HTTP endpoint. Strongroom
  POSTs the event (or the target's ``Input`` / ``InputPath`` selection)
  from a background worker, signed with the rule's HMAC secret, retried
  with exponential backoff, dead-lettered after the last attempt.
* ``arn:aws:logs:<region>:<account>:log-group:<name>[:*]`` — a "log":
  the matched event is appended to the store at once (no network), under
  ``eventbridge/log/<account>/<region>/<quoted group>/…``; read it back
  with :func:`read_log`.

Any other ARN is refused by PutTargets, so a rule never silently drops.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from strongroom.events.delivery import DEAD_LETTER_PREFIX, OUTBOX_PREFIX
from strongroom.storage.base import Store, Txn

HTTP_PREFIX = "strongroom:http:"
LOG_PREFIX = "eventbridge/log/"


@dataclass(frozen=True)
class HttpTarget:
    url: str


@dataclass(frozen=True)
class LogTarget:
    group: str


TargetKind = HttpTarget | LogTarget


def parse_target_arn(arn: str) -> TargetKind | None:
    """The delivery a target ARN asks for; None when Strongroom cannot deliver to it."""
    if arn.startswith(HTTP_PREFIX):
        url = arn[len(HTTP_PREFIX) :]
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return HttpTarget(url)
        return None
    fields = arn.split(":", 6)
    if len(fields) == 7 and fields[2] == "logs" and fields[5] == "log-group":
        group = fields[6]
        if group.endswith(":*"):
            group = group[:-2]
        return LogTarget(group) if group else None
    return None


def select_input(target: dict[str, Any], event: dict[str, Any]) -> str:
    """The body a target receives: ``Input`` verbatim, the ``InputPath``
    selection (``$`` or ``$.a.b`` paths), or the whole event."""
    if target.get("Input") is not None:
        return str(target["Input"])
    path = target.get("InputPath")
    value: Any = event
    if path:
        for part in [p for p in str(path).removeprefix("$").split(".") if p]:
            value = value.get(part) if isinstance(value, dict) else None
    return json.dumps(value, separators=(",", ":"))


def valid_input_path(path: str) -> bool:
    return path == "$" or (path.startswith("$.") and all(path[2:].split(".")))


def stamp_key(now_stamp: str, unique: str) -> str:
    # The monotonic counter keeps records of one clock tick in arrival order.
    return f"{now_stamp}-{time.monotonic_ns():020d}-{unique}"


def log_prefix(account: str, region: str, group: str) -> str:
    return f"{LOG_PREFIX}{account}/{region}/{quote(group, safe='')}/"


def append_log(
    txn: Txn, account: str, region: str, group: str, stamp: str, record: dict[str, Any]
) -> None:
    key = log_prefix(account, region, group) + stamp_key(stamp, str(record["event"]["id"]))
    txn.put(key, json.dumps(record, separators=(",", ":")).encode())


def read_log(store: Store, account: str, region: str, group: str) -> list[dict[str, Any]]:
    """Every record of one log target, oldest first: ``{"rule", "target", "event"}``."""
    return [json.loads(v) for _, v in store.iter_scan(log_prefix(account, region, group))]


def read_dead_letters(store: Store, account: str, region: str) -> list[dict[str, Any]]:
    """Deliveries that exhausted their attempts, oldest first."""
    prefix = f"{DEAD_LETTER_PREFIX}{account}/{region}/"
    return [json.loads(v) for _, v in store.iter_scan(prefix)]


def pending_deliveries(store: Store) -> list[dict[str, Any]]:
    return [json.loads(v) for _, v in store.iter_scan(OUTBOX_PREFIX)]
