"""The audit trail of one process: build, seal, persist and read events.

The gateway persists :meth:`AuditTrail.intent_rows` before a mutating
operation and :meth:`AuditTrail.event_rows` after every request, and waits
for the commit before it lets the response go (docs/design/audit.md has the exact
guarantee). Bodies are sealed by the barrier with ``audit/<eventID>`` as the
path, like every value in the key-value store; the columns that locate an
event (account, region, time, lookup attributes) are in the clear, as the
store's keys are.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from strongroom.audit.events import BuiltEvent, build_events, mark_outcome_unknown
from strongroom.audit.log import AuditLog, AuditRow, LookupQuery, RowKind, StoredEvent
from strongroom.audit.record import ENCODER, CallFacts
from strongroom.audit.sealing import Sealer, body_path, seal_rows
from strongroom.audit.writer import Batch, Done, GroupCommitWriter, RowBuilder, answer, build_rows
from strongroom.protocol.models import load_service

log = logging.getLogger("strongroom.audit")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# CloudTrail's own limit for one event; larger parameters are dropped.
MAX_RECORD_BYTES = 256 * 1024
# A request entry older than this whose event never came is from a process
# that died mid-request: recorded as an event with an unknown outcome.
ABANDON_AFTER = timedelta(minutes=5)


class AsyncWriter(Protocol):
    """Group commit for event loops: the inline writer (SQLite) or the
    writer process (PostgreSQL). Both build a request's rows (unsealed)
    when they take its batch."""

    batches: int

    def start(self) -> None: ...

    def submit(self, build: RowBuilder) -> asyncio.Future[bool]: ...

    def submit_then(self, build: RowBuilder, done: Done) -> None: ...

    def close(self) -> None: ...


def to_us(value: datetime) -> int:
    """Microseconds since the epoch (exact: a double holds 2**53 > 1e15 * 9)."""
    return round(value.timestamp() * 1_000_000)


def from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


@dataclass(frozen=True)
class Event:
    """A stored event, opened."""

    stored: StoredEvent
    record: dict[str, Any]

    @property
    def event_id(self) -> str:
        return self.stored.event_id

    @property
    def event_time(self) -> datetime:
        return from_us(self.stored.event_time_us)


def _trimmed(record: dict[str, Any]) -> bytes:
    """CloudTrail caps an event at 256 KB: drop the parameters, say so."""
    trimmed = dict(record)
    trimmed["requestParameters"] = None
    trimmed["responseElements"] = None
    extra = dict(trimmed.get("additionalEventData") or {})
    extra["strongroomTruncated"] = True
    trimmed["additionalEventData"] = extra
    return ENCODER.encode(trimmed).encode()


def encode_built(built: BuiltEvent) -> bytes:
    body = built.encode()
    return body if len(body) <= MAX_RECORD_BYTES else _trimmed(built.record)


def encode_record(record: dict[str, Any]) -> bytes:
    body = ENCODER.encode(record).encode()
    return body if len(body) <= MAX_RECORD_BYTES else _trimmed(record)


def nested_calls(facts: CallFacts) -> list[CallFacts]:
    """Calls another service made in-process for this request.

    The in-process client appends to the caller's ``ctx.audit["nested_calls"]``
    a dict with ``service`` (botocore name), ``operation``, ``params``,
    ``result`` or ``error`` (a ServiceError), its own ``audit`` dict and
    ``invoked_by`` ("secretsmanager.amazonaws.com"). Each becomes an event
    of its own, with its own request id, ``userIdentity.invokedBy`` and the
    invoking service as source address and user agent, as CloudTrail
    records them. (It is stored right after the caller's event, at the
    caller's event time.)
    """
    raw = facts.audit.get("nested_calls") if facts.audit else None
    if not raw or facts.principal is None:
        return []
    out: list[CallFacts] = []
    for call in raw:
        invoked_by = str(call.get("invoked_by") or "")
        out.append(
            CallFacts.nested(
                facts,
                invoked_by,
                load_service(str(call["service"])),
                str(call["operation"]),
                call.get("params"),
                call.get("result"),
                call.get("error"),
                dict(call.get("audit") or {}),
            )
        )
    return out


class AuditTrail:
    def __init__(
        self,
        audit_log: AuditLog,
        sealer: Sealer,
        account_exists: Callable[[str], bool],
        *,
        retention_days: int = 90,
        writer: GroupCommitWriter | None = None,
        async_writer: AsyncWriter | None = None,
    ) -> None:
        self.log = audit_log
        self.sealer = sealer
        self.account_exists = account_exists
        self.retention_days = retention_days
        # Synchronous callers (Pipeline.handle, tests) use the thread writer;
        # the server's event loops use the async writer when there is one.
        self.writer = writer or GroupCommitWriter(audit_log)
        self.async_writer = async_writer

    # -- writing (the gateway) -------------------------------------------------

    def _as_rows(
        self, kind: RowKind, events: list[BuiltEvent], completed: str | None, seal: bool
    ) -> list[AuditRow]:
        """Rows of ``events``; the one whose id is ``completed`` completes
        that request entry. Unsealed for the async writers, which seal."""
        rows = [
            AuditRow(
                kind,
                b.event_id,
                b.account,
                b.region,
                b.event_time_us,
                b.read_only,
                b.attrs,
                encode_built(b),
                completed if b.event_id == completed else None,
            )
            for b in events
        ]
        if seal:
            seal_rows(self.sealer, rows)
        return rows

    @property
    def seals_in_writer(self) -> bool:
        """The async writers seal bodies as part of the append."""
        return self.async_writer is not None

    def intent_rows(self, facts: CallFacts, *, seal: bool = True) -> list[AuditRow]:
        """The request entry of a mutating call, persisted before it runs."""
        built = build_events(facts, self.account_exists, outcome=False)[:1]
        return self._as_rows(RowKind.INTENT, built, None, seal)

    def event_rows(
        self, facts: CallFacts, *, completes_intent: bool = False, seal: bool = True
    ) -> list[AuditRow]:
        """The completed event of a request, its cross-account copies, and
        the events of calls made in-process on its behalf."""
        events = build_events(facts, self.account_exists)
        if facts.audit and "nested_calls" in facts.audit:
            for nested in nested_calls(facts):
                events += build_events(nested, self.account_exists)
        completed = facts.event_id if completes_intent else None
        return self._as_rows(RowKind.EVENT, events, completed, seal)

    def submit(self, rows: list[AuditRow]) -> Batch:
        """Queue sealed rows with the in-process (thread) writer; wait on the batch."""
        return self.writer.submit(rows)

    def persist_then(self, build: RowBuilder, done: Done) -> None:
        """Persist the rows ``build`` makes (unsealed when
        :attr:`seals_in_writer`) without blocking the running loop; then
        call ``done``, on the loop, with whether they were persisted (False
        when they could not be built or written)."""
        if self.async_writer is not None:
            self.async_writer.submit_then(build, done)
            return
        rows = build_rows(build)
        if rows is None:
            answer(done, False)
            return
        waiting = asyncio.ensure_future(self.writer.submit(list(rows)).wait_async())
        waiting.add_done_callback(
            lambda f: answer(done, not f.cancelled() and f.exception() is None and f.result())
        )

    def start(self) -> None:
        """Start the async writer ahead of the first request (server startup)."""
        if self.async_writer is not None:
            self.async_writer.start()

    # -- reading -----------------------------------------------------------------

    def open(self, stored: StoredEvent) -> Event:
        body = self.sealer.open(body_path(stored.event_id), stored.body)
        return Event(stored, json.loads(body))

    def lookup(self, query: LookupQuery) -> list[Event]:
        return [self.open(s) for s in self.log.lookup(query)]

    # -- background jobs ---------------------------------------------------------

    def expire(self, now: datetime) -> int:
        """Retention: delete events older than ``retention_days``."""
        return self.log.expire(to_us(now - timedelta(days=self.retention_days)))

    def recover_abandoned(self, now: datetime) -> int:
        """Turn request entries whose process died into outcome-unknown events."""
        stale = self.log.stale_intents(to_us(now - ABANDON_AFTER), 500)
        rows: list[AuditRow] = []
        for pending in stale:
            intent = pending.row
            opened = self.sealer.open(body_path(intent.event_id), intent.body)
            body = encode_record(mark_outcome_unknown(json.loads(opened)))
            rows.append(
                AuditRow(
                    RowKind.EVENT,
                    intent.event_id,
                    intent.account,
                    intent.region,
                    intent.event_time_us,
                    intent.read_only,
                    intent.attrs,
                    body,
                    completes=intent.event_id,
                )
            )
        if rows:
            seal_rows(self.sealer, rows)
            self.log.append(rows, to_us(now))
            log.warning("%d audit request entries had no outcome; recorded as unknown", len(rows))
        return len(rows)

    def close(self) -> None:
        if self.async_writer is not None:
            self.async_writer.close()
        self.writer.close()
        self.log.close()
