"""The AuditLog interface: where audit events are persisted and looked up.

The generic key-value Store cannot answer "the newest 50 events of account A
in us-east-1 whose user is alice" over a million events in well under a
second, so the audit trail has tables of its own in the same database
(migration 2): events in insertion order, one index row per lookup
attribute, and the in-flight "request" entries of mutating calls. Services
never see this interface; :class:`strongroom.audit.trail.AuditTrail` does.

Bodies are opaque bytes here (the trail seals them with the barrier); only
the columns needed to find an event are stored in the clear, as the
key-value store keeps its keys in the clear.
"""

from __future__ import annotations

import base64
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

# Index attribute codes: short, because there is one index row per attribute
# per event. LookupEvents' AttributeKey -> code; ALL indexes every event of
# a partition by time (the lookup without an attribute). ReadOnly has no
# entries of its own: it filters the ALL scan on the events' read_only.
ATTRIBUTE_CODES: dict[str, str] = {
    "EventId": "i",
    "EventName": "n",
    "EventSource": "s",
    "ReadOnly": "r",
    "Username": "u",
    "AccessKeyId": "k",
    "ResourceType": "t",
    "ResourceName": "m",
}
ALL = "a"
# Values longer than this are not indexed (a client could send a huge
# access key id or operation name; nobody looks those up by value).
MAX_INDEXED_VALUE = 512


class RowKind(Enum):
    INTENT = "intent"  # before a mutating operation runs
    EVENT = "event"  # the completed event (replaces its intent, if any)


@dataclass(slots=True)
class AuditRow:
    """One record to persist. ``attrs`` are (code, value) index entries.

    Not frozen: a frozen dataclass's ``__init__`` costs microseconds, and
    one of these is made for every request."""

    kind: RowKind
    event_id: str
    account: str
    region: str
    event_time_us: int
    read_only: bool
    attrs: tuple[tuple[str, str], ...]
    body: bytes
    # The intent this event completes. Whoever removes a pending entry (this
    # event, or the recovery of abandoned intents) inserts its event, so an
    # event is never stored twice.
    completes: str | None = None
    # The events table's ``attrs`` value when already known (rows read
    # back from the spool carry it instead of ``attrs``).
    attrs_column: str | None = None

    def to_pending(self) -> bytes:
        return json.dumps(
            {
                "event_id": self.event_id,
                "account": self.account,
                "region": self.region,
                "event_time_us": self.event_time_us,
                "read_only": self.read_only,
                "attrs": [list(a) for a in self.attrs],
                "body": base64.b64encode(self.body).decode(),
            }
        ).encode()

    @classmethod
    def from_pending(cls, data: bytes) -> AuditRow:
        raw = json.loads(data)
        return cls(
            RowKind.INTENT,
            raw["event_id"],
            raw["account"],
            raw["region"],
            int(raw["event_time_us"]),
            bool(raw["read_only"]),
            tuple((str(a), str(v)) for a, v in raw["attrs"]),
            base64.b64decode(raw["body"]),
        )


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    event_id: str
    account: str
    region: str
    event_time_us: int
    recorded_at_us: int
    body: bytes


@dataclass(frozen=True)
class LookupQuery:
    """Newest first. ``account``/``region`` None means all (admin CLI only)."""

    account: str | None
    region: str | None
    attribute: str | None = None  # a key of ATTRIBUTE_CODES, or "EventId"
    value: str | None = None
    start_us: int | None = None  # inclusive
    end_us: int | None = None  # inclusive
    limit: int = 50
    # Page cursor: only events strictly older than (event_time_us, seq).
    before: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.attribute is not None and self.attribute not in ATTRIBUTE_CODES:
            raise ValueError(f"unknown lookup attribute {self.attribute!r}")
        if self.attribute is not None and self.value is None:
            raise ValueError("a lookup attribute needs a value")
        if self.limit < 1:
            raise ValueError("limit must be positive")


@dataclass
class PendingIntent:
    row: AuditRow
    recorded_at_us: int


@dataclass
class AppendResult:
    inserted: int = 0
    duplicates: list[str] = field(default_factory=list)


class AuditLog(ABC):
    """Persistence for audit rows; every backend passes tests/audit's conformance suite."""

    kind: str = "abstract"

    @abstractmethod
    def append(self, rows: Sequence[AuditRow], recorded_at_us: int) -> AppendResult:
        """Persist ``rows`` in ONE transaction, durably, or raise.

        Intents go to the pending table. Events (and nothing else: no index
        is maintained on this path) get the next sequence
        numbers, in commit order across every process (writers serialize),
        so a reader that has seen ``seq`` N has seen everything before it.
        An event completing an intent is inserted only if it removed that
        intent (see :attr:`AuditRow.completes`).
        """

    def ingest(self) -> int:
        """Move spooled batches into the log (strongroom.audit.spool); how
        many rows. Logs without a spool have nothing to do."""
        return 0

    @abstractmethod
    def lookup(self, query: LookupQuery) -> list[StoredEvent]:
        """Events matching ``query``, newest first (event time, then seq)."""

    @abstractmethod
    def index_pending(self, limit: int = 1024) -> int:
        """Index up to ``limit`` events not yet in the lookup index, in one
        transaction; how many. Lookups are complete without it (they read
        the unindexed tail directly): indexing in bulk is what keeps both
        appends and lookups fast."""

    @abstractmethod
    def indexed_seq(self) -> int:
        """The newest sequence number the lookup index covers."""

    @abstractmethod
    def after(self, seq: int, limit: int) -> list[StoredEvent]:
        """Events with sequence number greater than ``seq``, in order (export, tail)."""

    @abstractmethod
    def last_seq(self) -> int:
        """The newest sequence number (0 when empty)."""

    @abstractmethod
    def stale_intents(self, recorded_before_us: int, limit: int) -> list[PendingIntent]:
        """Intents whose event never arrived (the process died mid-request)."""

    @abstractmethod
    def expire(self, event_time_before_us: int, batch: int = 1000) -> int:
        """Delete every event older than the cutoff, ``batch`` rows per
        transaction so live writers are never held up long; how many went."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...


def encode_attrs(attrs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Dedupe and drop empty or unindexable values, keeping order."""
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str]] = []
    for pair in attrs:
        if pair in seen or not pair[1] or len(pair[1]) > MAX_INDEXED_VALUE:
            continue
        seen.add(pair)
        out.append(pair)
    return tuple(out)
