"""What the SQLite and PostgreSQL audit logs share: the SQL and the merging.

Both backends have the same four tables (storage migration 2) and differ in
connections, placeholders and locking.

Writing: requests wait for their batch's append, so an append inserts event
rows only: appended at the end of ``audit_events``, no secondary index.
Per event, the entries it needs in the lookup index travel with it
(``attrs``, JSON ``[[attr, value], ...]``). :meth:`index_pending` later
moves a thousand events at a time into ``audit_index`` in one statement:
the index pages touched are written once per thousand events instead of
once per small batch, which is most of what an index costs.

Reading: ``audit_index`` is clustered in lookup order (account, region,
attr, value, event_time, seq), so a lookup is one backwards range scan of
``limit`` rows joined to the events by primary key. Events past
``audit_meta.indexed_seq`` (a few hundred at most while the writer keeps
up) are read from ``audit_events`` by sequence number and filtered here;
both halves are merged newest first.
"""

from __future__ import annotations

import heapq
import json
from abc import abstractmethod
from collections.abc import Sequence
from json.encoder import encode_basestring as _quote
from typing import Any

from strongroom.audit.log import (
    ALL,
    ATTRIBUTE_CODES,
    AuditLog,
    AuditRow,
    LookupQuery,
    PendingIntent,
    StoredEvent,
)

# Lookups read at most about this many unindexed events directly.
_MAX_TAIL = 50_000
_EVENT_COLUMNS = ("seq", "event_id", "account", "region", "event_time", "recorded_at", "body")
_SELECT_EVENTS = ", ".join(_EVENT_COLUMNS)


class Tables:
    """Table names as a reader sees them, and as the indexer's connection
    does (on SQLite the index lives in a side file; see sqlite_log)."""

    def __init__(
        self,
        *,
        events: str,
        index: str,
        pending: str,
        meta: str,
        ix_events: str,
        ix_index: str,
        ix_meta: str,
        ph: str,
        json_from: str,
        attr_expr: str,
        value_expr: str,
    ) -> None:
        self.events = events
        self.index = index
        self.pending = pending
        self.meta = meta
        self.ix_events = ix_events
        self.ix_index = ix_index
        self.ix_meta = ix_meta
        self.ph = ph  # the driver's placeholder: "?" or "%s"
        # How the engine expands e.attrs into one row j per entry, and the
        # entry's attr and value.
        self.json_from = json_from
        self.attr_expr = attr_expr
        self.value_expr = value_expr


def _row(values: Sequence[Any]) -> StoredEvent:
    seq, event_id, account, region, event_time, recorded_at, body = values[:7]
    return StoredEvent(
        int(seq),
        str(event_id),
        str(account),
        str(region),
        int(event_time),
        int(recorded_at),
        bytes(body),
    )


def attrs_json(row: AuditRow) -> str:
    """The ``attrs`` column: every index entry of ``row``, as JSON
    ``[[attr, value], ...]`` (written by hand: this runs for every event)."""
    head = f'[["{ALL}",""],["i",{_quote(row.event_id)}]'
    return head + "".join(f',["{a}",{_quote(v)}]' for a, v in row.attrs) + "]"


class SqlAuditLog(AuditLog):
    """Lookup, export, indexing, expiry and intents in SQL common to both engines."""

    def __init__(self, tables: Tables) -> None:
        self.t = tables

    # -- backend hooks ---------------------------------------------------------

    @staticmethod
    def _flag(value: bool) -> Any:
        """A read_only value as the engine stores it (SQLite: 0/1)."""
        return value

    @abstractmethod
    def _fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        """Run one read-only statement (events and index both visible)."""

    @abstractmethod
    def _events_txn(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> int:
        """Run statements on the events in one write transaction; the number
        of rows the last one changed."""

    @abstractmethod
    def _index_txn(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> int:
        """Run statements on the lookup index in one transaction, serialized
        against other indexers but never against appends (``ix_*`` names)."""

    # -- indexing ----------------------------------------------------------------

    def indexed_seq(self) -> int:
        rows = self._fetch(f"SELECT value FROM {self.t.meta} WHERE name = 'indexed_seq'", ())
        return int(rows[0][0]) if rows else 0

    def index_pending(self, limit: int = 1024) -> int:
        t, ph = self.t, self.t.ph
        before = self.indexed_seq()
        # Both statements read indexed_seq inside the transaction, which the
        # indexers' lock serializes, so a range is never indexed twice.
        mark = f"(SELECT value FROM {t.ix_meta} WHERE name = 'indexed_seq')"
        top = (
            f"(SELECT coalesce(max(seq), {mark}) FROM (SELECT seq FROM {t.ix_events} "
            f"WHERE seq > {mark} ORDER BY seq LIMIT {ph}) AS chunk)"
        )
        self._index_txn(
            [
                (
                    f"INSERT INTO {t.ix_index} (account, region, attr, value, event_time, seq) "
                    f"SELECT e.account, e.region, {t.attr_expr}, {t.value_expr}, e.event_time, "
                    f"e.seq FROM {t.ix_events} e, {t.json_from} "
                    f"WHERE e.seq > {mark} AND e.seq <= {top}",
                    (limit,),
                ),
                (
                    f"UPDATE {t.ix_meta} SET value = {top} WHERE name = 'indexed_seq'",
                    (limit,),
                ),
            ]
        )
        return self.indexed_seq() - before

    # -- lookups ---------------------------------------------------------------

    def lookup(self, query: LookupQuery) -> list[StoredEvent]:
        if query.account is not None and query.region is not None:
            return self._lookup_one(query, query.account, query.region)
        # Admin queries across accounts/regions: the newest events of each
        # partition, merged. Partitions are few; each scan is an index range.
        pages = [
            self._lookup_one(query, account, region)
            for account, region in self.partitions(query.account)
            if query.region is None or region == query.region
        ]
        merged = heapq.merge(*pages, key=lambda e: (e.event_time_us, e.seq), reverse=True)
        return list(merged)[: query.limit]

    def partitions(self, account: str | None = None) -> list[tuple[str, str]]:
        """Distinct (account, region) pairs: a loose scan of the index's
        ALL entries, plus the unindexed tail."""
        ph, index = self.t.ph, self.t.index
        found: set[tuple[str, str]] = set()
        rows = self._fetch(
            f"SELECT account, region FROM {index} WHERE attr = '{ALL}' "
            + (f"AND account = {ph} " if account is not None else "")
            + "ORDER BY account, region LIMIT 1",
            (account,) if account is not None else (),
        )
        while rows:
            pair = (str(rows[0][0]), str(rows[0][1]))
            found.add(pair)
            rows = self._fetch(
                f"SELECT account, region FROM {index} WHERE (account, region) > ({ph}, {ph}) "
                + (f"AND account = {ph} " if account is not None else "")
                + "ORDER BY account, region LIMIT 1",
                (*pair, account) if account is not None else pair,
            )
        for row in self._fetch(
            f"SELECT DISTINCT account, region FROM {self.t.events} WHERE seq > "
            f"(SELECT value FROM {self.t.meta} WHERE name = 'indexed_seq')",
            (),
        ):
            if account is None or row[0] == account:
                found.add((str(row[0]), str(row[1])))
        return sorted(found)

    def _lookup_one(self, q: LookupQuery, account: str, region: str) -> list[StoredEvent]:
        # indexed_seq first: whatever the indexer does meanwhile, an event is
        # either in the index by now or after this mark (seen twice at worst).
        mark = self.indexed_seq()
        if self.last_seq() - mark > _MAX_TAIL:
            # The index fell far behind (a rebuild, a burst): catch up first
            # rather than filter a long tail here.
            while self.index_pending(65536):
                pass
            mark = self.indexed_seq()
        indexed = self._lookup_indexed(q, account, region)
        tail = self._lookup_tail(q, account, region, mark)
        if not tail:
            return indexed
        seen = {e.seq for e in indexed}
        merged = indexed + [e for e in tail if e.seq not in seen]
        merged.sort(key=lambda e: (e.event_time_us, e.seq), reverse=True)
        return merged[: q.limit]

    def _lookup_indexed(self, q: LookupQuery, account: str, region: str) -> list[StoredEvent]:
        ph = self.t.ph
        # ReadOnly has two values: a filter on the time-ordered scan, not an
        # index entry per event.
        by_attr = q.attribute is not None and q.attribute != "ReadOnly"
        attr = ATTRIBUTE_CODES[str(q.attribute)] if by_attr else ALL
        value = str(q.value) if by_attr else ""
        where = ["i.account = " + ph, "i.region = " + ph, "i.attr = " + ph, "i.value = " + ph]
        params: list[Any] = [account, region, attr, value]
        if q.attribute == "ReadOnly":
            where.append(f"e.read_only = {ph}")
            params.append(self._flag(str(q.value).lower() == "true"))
        if q.start_us is not None:
            where.append(f"i.event_time >= {ph}")
            params.append(q.start_us)
        if q.end_us is not None:
            where.append(f"i.event_time <= {ph}")
            params.append(q.end_us)
        if q.before is not None:
            # The first term bounds the index range; the second drops ties.
            where.append(f"i.event_time <= {ph} AND (i.event_time < {ph} OR i.seq < {ph})")
            params += [q.before[0], q.before[0], q.before[1]]
        columns = ", ".join(f"e.{c}" for c in _EVENT_COLUMNS)
        sql = (
            f"SELECT {columns} FROM {self.t.index} i JOIN {self.t.events} e ON e.seq = i.seq "
            f"WHERE {' AND '.join(where)} ORDER BY i.event_time DESC, i.seq DESC LIMIT {ph}"
        )
        params.append(q.limit)
        return [_row(r) for r in self._fetch(sql, params)]

    def _lookup_tail(
        self, q: LookupQuery, account: str, region: str, mark: int
    ) -> list[StoredEvent]:
        ph = self.t.ph
        # ORDER BY seq with a LIMIT: a primary-key range, whatever the
        # planner's statistics say about the table.
        rows = self._fetch(
            f"SELECT {_SELECT_EVENTS}, attrs, read_only FROM {self.t.events} "
            f"WHERE seq > {ph} AND account = {ph} AND region = {ph} ORDER BY seq LIMIT {ph}",
            (mark, account, region, 10 * _MAX_TAIL),
        )
        want = None
        read_only = None
        if q.attribute == "ReadOnly":
            read_only = str(q.value).lower() == "true"
        elif q.attribute is not None:
            want = [ATTRIBUTE_CODES[q.attribute], str(q.value)]
        out: list[StoredEvent] = []
        for raw in rows:
            event = _row(raw)
            if q.start_us is not None and event.event_time_us < q.start_us:
                continue
            if q.end_us is not None and event.event_time_us > q.end_us:
                continue
            if q.before is not None and (event.event_time_us, event.seq) >= q.before:
                continue
            if want is not None and want not in json.loads(raw[7]):
                continue
            if read_only is not None and bool(raw[8]) != read_only:
                continue
            out.append(event)
        return out

    def after(self, seq: int, limit: int) -> list[StoredEvent]:
        ph = self.t.ph
        sql = (
            f"SELECT {_SELECT_EVENTS} FROM {self.t.events} WHERE seq > {ph} ORDER BY seq LIMIT {ph}"
        )
        return [_row(r) for r in self._fetch(sql, (seq, limit))]

    def last_seq(self) -> int:
        rows = self._fetch(f"SELECT coalesce(max(seq), 0) FROM {self.t.events}", ())
        return int(rows[0][0])

    def stale_intents(self, recorded_before_us: int, limit: int) -> list[PendingIntent]:
        ph = self.t.ph
        rows = self._fetch(
            f"SELECT recorded_at, row FROM {self.t.pending} WHERE recorded_at < {ph} "
            f"ORDER BY recorded_at LIMIT {ph}",
            (recorded_before_us, limit),
        )
        return [PendingIntent(AuditRow.from_pending(bytes(r[1])), int(r[0])) for r in rows]

    # -- retention -------------------------------------------------------------

    def expire(self, event_time_before_us: int, batch: int = 1000) -> int:
        """Per partition, the oldest events (found through the ALL index
        entries), ``batch`` at a time: the events go first, then exactly
        their index entries (rebuilt from ``attrs``), so no lock is held
        for long and the work is proportional to what expires."""
        while self.index_pending(65536):  # everything expirable is indexed first
            pass
        ph, t = self.t.ph, self.t
        gone = 0
        for account, region in self.partitions():
            while True:
                rows = self._fetch(
                    f"SELECT event_time, seq FROM {t.index} WHERE account = {ph} "
                    f"AND region = {ph} AND attr = '{ALL}' AND value = '' "
                    f"AND event_time < {ph} ORDER BY event_time, seq LIMIT {ph}",
                    (account, region, event_time_before_us, batch),
                )
                if not rows:
                    break
                seqs = [int(r[1]) for r in rows]
                marks = ", ".join([ph] * len(seqs))
                keys = {(account, region, ALL, "", int(r[0]), int(r[1])) for r in rows}
                for seq, event_time, attrs in self._fetch(
                    f"SELECT seq, event_time, attrs FROM {t.events} WHERE seq IN ({marks})", seqs
                ):
                    keys.update(
                        (account, region, str(a), str(v), int(event_time), int(seq))
                        for a, v in json.loads(attrs)
                    )
                self._events_txn([(f"DELETE FROM {t.events} WHERE seq IN ({marks})", seqs)])
                self._delete_index_keys(sorted(keys))
                gone += len(seqs)
        return gone

    def _delete_index_keys(self, keys: Sequence[tuple[Any, ...]]) -> None:
        ph = self.t.ph
        one = "(" + ", ".join([ph] * 6) + ")"
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            self._index_txn(
                [
                    (
                        f"DELETE FROM {self.t.ix_index} WHERE (account, region, attr, value, "
                        f"event_time, seq) IN (VALUES {', '.join([one] * len(chunk))})",
                        [v for key in chunk for v in key],
                    )
                ]
            )

    def count(self) -> int:
        rows = self._fetch(f"SELECT count(*) FROM {self.t.events}", ())
        return int(rows[0][0])

    def reset_index(self) -> None:
        """Drop the lookup index (it is rebuilt from the events)."""
        t = self.t
        self._index_txn(
            [
                (f"DELETE FROM {t.ix_index}", ()),
                (f"UPDATE {t.ix_meta} SET value = 0 WHERE name = 'indexed_seq'", ()),
            ]
        )
