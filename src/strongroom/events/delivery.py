"""The background worker that delivers events to HTTP targets.

Routing only *enqueues*: one outbox record per (event, HTTP target) at
``eventbridge/outbox/<due time>-<id>``. The worker (a job on the
leader-elected runner, so exactly one process sends) takes the records that
are due, oldest first, and POSTs each one:

* 2xx: delivered, the record is deleted.
* 401, 407, 409, 429, 5xx or no answer: retried after ``base * 2**n``
  seconds (capped), up to the target's ``RetryPolicy.MaximumRetryAttempts``
  (default :data:`DEFAULT_RETRIES`) and ``MaximumEventAgeInSeconds`` —
  the status codes EventBridge API destinations retry on.
* any other status, or retries exhausted: a dead-letter record at
  ``eventbridge/dead-letter/<account>/<region>/…`` with the last error.

Delivery is at least once: the record is updated only after the attempt, so
a crash mid-send repeats it. Endpoints dedupe on ``X-Strongroom-Event-Id``.

Every request is signed like the HTTP rotator's: ``X-Strongroom-Timestamp``
and ``X-Strongroom-Signature: v1=<hex HMAC-SHA256(secret, ts + "." + body)>``
keyed with the SecretString of the Secrets Manager secret the rule names
(tag ``strongroom:signing-secret-id``), read at send time through
:data:`SecretLookup` so rotating that secret rotates the key. When it cannot
be read, the attempt fails (retryable) and nothing unsigned is sent.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from strongroom.events.rules import load_rule
from strongroom.rotators.http import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from strongroom.storage.base import Store

log = logging.getLogger("strongroom.events")

OUTBOX_PREFIX = "eventbridge/outbox/"
DEAD_LETTER_PREFIX = "eventbridge/dead-letter/"
DEFAULT_RETRIES = 5
EVENT_ID_HEADER = "X-Strongroom-Event-Id"
RULE_HEADER = "X-Strongroom-Rule"
RETRYABLE = frozenset({401, 407, 409, 429})
_BATCH = 50


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def outbox_key(due: datetime, delivery_id: str) -> str:
    # Fixed-width UTC stamps sort in time order, so a prefix scan is the queue.
    return f"{OUTBOX_PREFIX}{_stamp(due)}-{delivery_id}"


@dataclass(frozen=True)
class Attempt:
    """The outcome of one POST: an HTTP status, or None when there was no answer."""

    status: int | None
    error: str

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status >= 500 or self.status in RETRYABLE


Sender = Callable[[str, bytes, dict[str, str], float], Attempt]
# (account, region, secret id) -> HMAC key; raises or returns None when unavailable.
SecretLookup = Callable[[str, str, str], bytes | None]


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Attempt:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Attempt(int(response.status), "")
    except urllib.error.HTTPError as exc:
        return Attempt(exc.code, f"HTTP {exc.code}")
    except (OSError, ValueError) as exc:
        # Connection refused, timeout, TLS failure: retryable. The URL is the
        # operator's own configuration, not a secret, but keep the message short.
        return Attempt(None, type(exc).__name__)


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        secrets: SecretLookup,
        *,
        sender: Sender = http_post,
        base_backoff: float = 1.0,
        max_backoff: float = 300.0,
        timeout: float = 5.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.secrets = secrets
        self.sender = sender
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.timeout = timeout

    def run(self, now: datetime | None = None) -> int:
        """Attempt every delivery due at ``now``; returns how many were attempted."""
        now = now or self.clock()
        limit = f"{OUTBOX_PREFIX}{_stamp(now)}~"
        due = [(k, v) for k, v in self.store.scan(OUTBOX_PREFIX, limit=_BATCH) if k <= limit]
        for key, value in due:
            self._attempt(key, json.loads(value), now)
        return len(due)

    def _attempt(self, key: str, delivery: dict[str, Any], now: datetime) -> None:
        rule = load_rule(
            self.store, delivery["account"], delivery["region"], delivery["bus"], delivery["rule"]
        )
        if rule is None or not rule.signing_secret_id:
            # The rule was deleted (or lost its secret) after the event matched.
            self.store.delete(key)
            return
        body = str(delivery["body"]).encode()
        key_bytes = self._signing_key(rule.account, rule.region, rule.signing_secret_id)
        if key_bytes is None:
            attempt = Attempt(None, "signing secret unavailable")
        else:
            headers = self._headers(delivery, key_bytes, body)
            attempt = self.sender(self._url(delivery), body, headers, self.timeout)
        delivery["attempt"] = int(delivery["attempt"]) + 1
        with self.store.transaction() as txn:
            if txn.get(key) is None:
                return  # already handled (should not happen with one leader)
            txn.delete(key)
            if attempt.delivered:
                return
            age = now.timestamp() - float(delivery["created"])
            max_age = delivery.get("max_age")
            exhausted = delivery["attempt"] > int(delivery["max_retries"]) or (
                max_age is not None and age >= float(max_age)
            )
            if attempt.retryable and not exhausted:
                delay = min(self.max_backoff, self.base_backoff * 2 ** (delivery["attempt"] - 1))
                due = now + timedelta(seconds=delay)
                txn.put(outbox_key(due, str(delivery["id"])), json.dumps(delivery).encode())
                return
            delivery["error"] = attempt.error or f"HTTP {attempt.status}"
            delivery["dead_lettered"] = now.timestamp()
            dead = (
                f"{DEAD_LETTER_PREFIX}{delivery['account']}/{delivery['region']}/"
                f"{_stamp(now)}-{time.monotonic_ns():020d}-{delivery['id']}"
            )
            txn.put(dead, json.dumps(delivery).encode())
        log.warning(
            "event %s to rule %s target %s dead-lettered after %d attempts: %s",
            delivery["event_id"],
            delivery["rule_arn"],
            delivery["target"],
            delivery["attempt"],
            delivery["error"],
        )

    def _signing_key(self, account: str, region: str, secret_id: str) -> bytes | None:
        try:
            return self.secrets(account, region, secret_id)
        except Exception as exc:  # missing, deleted, access denied: retry later
            log.warning("signing secret %s unavailable: %s", secret_id, type(exc).__name__)
            return None

    @staticmethod
    def _url(delivery: dict[str, Any]) -> str:
        query = (delivery.get("http") or {}).get("QueryStringParameters") or {}
        if not query:
            return str(delivery["url"])
        sep = "&" if "?" in delivery["url"] else "?"
        return f"{delivery['url']}{sep}{urllib.parse.urlencode(query)}"

    @staticmethod
    def _headers(delivery: dict[str, Any], key: bytes, body: bytes) -> dict[str, str]:
        headers = {
            str(k): str(v)
            for k, v in ((delivery.get("http") or {}).get("HeaderParameters") or {}).items()
        }
        timestamp = str(int(time.time()))
        headers.update(
            {
                "Content-Type": "application/json",
                "User-Agent": "strongroom-events/1",
                EVENT_ID_HEADER: str(delivery["event_id"]),
                RULE_HEADER: str(delivery["rule_arn"]),
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(key, timestamp, body),
            }
        )
        return headers
