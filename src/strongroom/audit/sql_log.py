"""What the SQLite and PostgreSQL audit logs share: the SQL and the merging.

Both backends have the same tables (storage migrations 2 and 3) and differ
in connections, placeholders and locking.

Writing: requests wait for their batch's append, so an append inserts event
rows only: appended at the end of ``audit_events``, no secondary index.
Per event, the entries it needs in the lookup index travel with it
(``attrs``, JSON ``[[attr, value], ...]``). :meth:`index_pending` later
turns a few thousand events at a time into posting rows
(:mod:`strongroom.audit.postings`): one row per attribute value per chunk.

Reading: a lookup reads the posting rows of one (account, region, attr,
value) newest first and then exactly the events it returns, by primary
key. Events past ``audit_meta.indexed_seq`` (the writers' recent work,
while the index job waits for a quiet moment) are read from
``audit_events`` by sequence number and filtered here; both halves are
merged newest first.
"""

from __future__ import annotations

import heapq
import json
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import replace
from json.encoder import encode_basestring as _quote
from typing import Any, TypeVar

from strongroom.audit import postings
from strongroom.audit.log import (
    ALL,
    ATTRIBUTE_CODES,
    AuditLog,
    AuditRow,
    LookupQuery,
    PendingIntent,
    StoredEvent,
)

# Lookups read at most about this many unindexed events directly; past
# that they bring the index up to date first.
_MAX_TAIL = 50_000
_EVENT_COLUMNS = ("seq", "event_id", "account", "region", "event_time", "recorded_at", "body")
_SELECT_EVENTS = ", ".join(_EVENT_COLUMNS)
_POSTING_COLUMNS = "account, region, attr, value, max_time, last_seq, min_time, entries"
# Posting rows read per round trip while a lookup walks them.
_POSTINGS_PER_FETCH = 16

T = TypeVar("T")


class Tables:
    """Table names as a reader sees them, and as the indexer's connection
    does (on SQLite the index lives in a side file; see sqlite_log)."""

    def __init__(
        self,
        *,
        events: str,
        postings: str,
        pending: str,
        meta: str,
        ix_events: str,
        ix_postings: str,
        ix_meta: str,
        ph: str,
    ) -> None:
        self.events = events
        self.postings = postings
        self.pending = pending
        self.meta = meta
        self.ix_events = ix_events
        self.ix_postings = ix_postings
        self.ix_meta = ix_meta
        self.ph = ph  # the driver's placeholder: "?" or "%s"


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


# The column per entry tuple: the gateway hands out one tuple object per
# request shape, so most events share it.
_attrs_texts: dict[tuple[tuple[str, str], ...], str] = {}
_ATTRS_TEXTS_MAX = 10_000


def attrs_json(row: AuditRow) -> str:
    """The ``attrs`` column: every index entry of ``row`` but ALL and
    ReadOnly (implied), as JSON ``[[attr, value], ...]`` (written by hand:
    this runs for every event). The event's id is not among them: it has
    its own column, indexed (migration 5); rows written before carry it
    first, as ``["i", id]``."""
    if row.attrs_column is not None:
        return row.attrs_column
    text = _attrs_texts.get(row.attrs)
    if text is None:
        text = "[" + ",".join(f'["{a}",{_quote(v)}]' for a, v in row.attrs) + "]"
        if len(_attrs_texts) >= _ATTRS_TEXTS_MAX:
            _attrs_texts.clear()
        _attrs_texts[row.attrs] = text
    return text


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
    def _index_work(self, work: Callable[[Any], T]) -> T:
        """Run ``work(cursor)`` in one transaction on the lookup index,
        serialized against other indexers but never against appends
        (``ix_*`` names). The cursor has ``execute(sql, params)`` (returning
        something with ``fetchall()``) and ``executemany(sql, rows)``."""

    # -- indexing ----------------------------------------------------------------

    def indexed_seq(self) -> int:
        rows = self._fetch(f"SELECT value FROM {self.t.meta} WHERE name = 'indexed_seq'", ())
        return int(rows[0][0]) if rows else 0

    def catch_up(self) -> None:
        """Index every event appended before this call.

        Bounded on purpose: "until nothing is left" never ends while
        requests keep appending faster than one caller indexes."""
        target = self.last_seq()
        while self.indexed_seq() < target and self.index_pending(65536):
            pass

    def index_pending(self, limit: int = 1024) -> int:
        t, ph = self.t, self.t.ph

        def work(cur: Any) -> int:
            # indexed_seq is read inside the transaction, which the
            # indexers' lock serializes: a range is never indexed twice.
            mark = int(
                cur.execute(
                    f"SELECT value FROM {t.ix_meta} WHERE name = 'indexed_seq'", ()
                ).fetchall()[0][0]
            )
            events = cur.execute(
                f"SELECT seq, account, region, event_time, read_only, attrs FROM {t.ix_events} "
                f"WHERE seq > {ph} ORDER BY seq LIMIT {ph}",
                (mark, limit),
            ).fetchall()
            if not events:
                return 0
            marks = ", ".join([ph] * 8)
            cur.executemany(
                f"INSERT INTO {t.ix_postings} ({_POSTING_COLUMNS}) VALUES ({marks})",
                postings.build(events),
            )
            cur.execute(
                f"UPDATE {t.ix_meta} SET value = {ph} WHERE name = 'indexed_seq'",
                (int(events[-1][0]),),
            )
            return len(events)

        return self._index_work(work)

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
        ph, index = self.t.ph, self.t.postings
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
        if q.attribute == "EventId":
            return self._lookup_event_id(q, account, region)
        # indexed_seq first: whatever the indexer does meanwhile, an event is
        # either in the index by now or after this mark (seen twice at worst).
        mark = self.indexed_seq()
        # The stored seq: lookup() has just moved the spool.
        if self._stored_last_seq() - mark > _MAX_TAIL:
            # The index fell far behind (a rebuild, a burst): catch up first
            # rather than filter a long tail here.
            self.catch_up()
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
        ph, t = self.t.ph, self.t
        if q.attribute is None:
            attr, value = ALL, ""
        elif q.attribute == "ReadOnly":
            attr, value = postings.READ_ONLY, str(q.value).lower()
        else:
            attr, value = ATTRIBUTE_CODES[q.attribute], str(q.value)
        where = f"account = {ph} AND region = {ph} AND attr = {ph} AND value = {ph}"
        params: list[Any] = [account, region, attr, value]
        # Rows that cannot hold an entry of the window are skipped by SQL;
        # the exact bounds are checked entry by entry.
        if q.start_us is not None:
            where += f" AND max_time >= {ph}"
            params.append(q.start_us)
        newest_wanted = min(
            (v for v in (q.end_us, q.before[0] if q.before else None) if v is not None),
            default=None,
        )
        if newest_wanted is not None:
            where += f" AND min_time <= {ph}"
            params.append(newest_wanted)
        chosen = postings.newest(
            self._posting_pages(where, params),
            q.limit,
            start_us=q.start_us,
            end_us=q.end_us,
            before=q.before,
        )
        if not chosen:
            return []
        seqs = [seq for _, seq in chosen]
        found = {
            int(r[0]): _row(r)
            for r in self._fetch(
                f"SELECT {_SELECT_EVENTS} FROM {t.events} "
                f"WHERE seq IN ({', '.join([ph] * len(seqs))})",
                seqs,
            )
        }
        # An entry whose event retention has just removed is skipped.
        return [found[seq] for seq in seqs if seq in found]

    def _posting_pages(self, where: str, params: list[Any]) -> Any:
        """``(max_time, entries)`` of the matching posting rows, newest
        first, a few at a time (a lookup usually needs only the first)."""
        ph = self.t.ph
        after: tuple[int, int] | None = None
        while True:
            page_where = where
            page_params = list(params)
            if after is not None:
                page_where += f" AND (max_time < {ph} OR (max_time = {ph} AND last_seq < {ph}))"
                page_params += [after[0], after[0], after[1]]
            rows = self._fetch(
                f"SELECT max_time, last_seq, entries FROM {self.t.postings} WHERE {page_where} "
                f"ORDER BY max_time DESC, last_seq DESC LIMIT {_POSTINGS_PER_FETCH}",
                page_params,
            )
            for max_time, _, entries in rows:
                yield int(max_time), entries
            if len(rows) < _POSTINGS_PER_FETCH:
                return
            after = (int(rows[-1][0]), int(rows[-1][1]))

    def _lookup_event_id(self, q: LookupQuery, account: str, region: str) -> list[StoredEvent]:
        """Through the events table's event_id index (indexed or not yet)."""
        ph = self.t.ph
        rows = self._fetch(
            f"SELECT {_SELECT_EVENTS}, attrs, read_only FROM {self.t.events} "
            f"WHERE event_id = {ph} AND account = {ph} AND region = {ph}",
            (str(q.value), account, region),
        )
        # The id is matched by SQL (rows written before migration 5 also
        # carry it in attrs, newer ones do not): only the window is left.
        found = _matching(replace(q, attribute=None, value=None), rows)
        found.sort(key=lambda e: (e.event_time_us, e.seq), reverse=True)
        return found[: q.limit]

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
        return _matching(q, rows)

    def after(self, seq: int, limit: int) -> list[StoredEvent]:
        ph = self.t.ph
        sql = (
            f"SELECT {_SELECT_EVENTS} FROM {self.t.events} WHERE seq > {ph} ORDER BY seq LIMIT {ph}"
        )
        return [_row(r) for r in self._fetch(sql, (seq, limit))]

    def last_seq(self) -> int:
        return self._stored_last_seq()

    def _stored_last_seq(self) -> int:
        """The newest seq in the events table (a spooling log's last_seq
        moves the spool first)."""
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
        """Delete the events older than the cutoff, ``batch`` rows per
        transaction so live writers are never held up long; how many went.
        Then the posting rows: whole rows older than the cutoff go, rows
        that straddle it keep only their newer entries.

        The events table has no index on time (appends stay cheap), and a
        scan of it reads the whole log, hourly. The index has what is
        needed: every event has an entry under ALL, and a posting row
        says how old its oldest entry is, so the expired events are found
        by reading the few ALL rows that hold one."""
        self.catch_up()  # everything expirable is indexed first
        ph, t = self.t.ph, self.t
        expired: list[int] = []
        for account, region in self.partitions():
            rows = self._fetch(
                f"SELECT entries FROM {t.postings} WHERE account = {ph} AND region = {ph} "
                f"AND attr = '{ALL}' AND value = '' AND min_time < {ph}",
                (account, region, event_time_before_us),
            )
            for (blob,) in rows:
                entries = postings.entries_of(blob)
                expired += [
                    int(entries[i + 1])
                    for i in range(0, len(entries), 2)
                    if entries[i] < event_time_before_us
                ]
        gone = 0
        for start in range(0, len(expired), batch):
            seqs = expired[start : start + batch]
            marks = ", ".join([ph] * len(seqs))
            gone += self._events_txn([(f"DELETE FROM {t.events} WHERE seq IN ({marks})", seqs)])
        self._expire_postings(event_time_before_us)
        return gone

    def _expire_postings(self, cutoff_us: int) -> None:
        t, ph = self.t, self.t.ph

        def work(cur: Any) -> None:
            cur.execute(f"DELETE FROM {t.ix_postings} WHERE max_time < {ph}", (cutoff_us,))
            key = "account, region, attr, value, max_time, last_seq"
            straddling = cur.execute(
                f"SELECT {key}, entries FROM {t.ix_postings} WHERE min_time < {ph}",
                (cutoff_us,),
            ).fetchall()
            for account, region, attr, value, max_time, last_seq, entries in straddling:
                cur.execute(
                    f"DELETE FROM {t.ix_postings} WHERE account = {ph} AND region = {ph} "
                    f"AND attr = {ph} AND value = {ph} AND max_time = {ph} AND last_seq = {ph}",
                    (account, region, attr, value, max_time, last_seq),
                )
                kept = postings.without_expired(entries, cutoff_us)
                if kept is not None:
                    blob, min_time, new_last = kept
                    cur.execute(
                        f"INSERT INTO {t.ix_postings} ({_POSTING_COLUMNS}) "
                        f"VALUES ({', '.join([ph] * 8)})",
                        (account, region, attr, value, max_time, new_last, min_time, blob),
                    )

        self._index_work(work)

    def count(self) -> int:
        rows = self._fetch(f"SELECT count(*) FROM {self.t.events}", ())
        return int(rows[0][0])

    def reset_index(self) -> None:
        """Drop the lookup index (it is rebuilt from the events)."""
        t = self.t

        def work(cur: Any) -> None:
            cur.execute(f"DELETE FROM {t.ix_postings}", ())
            cur.execute(f"UPDATE {t.ix_meta} SET value = 0 WHERE name = 'indexed_seq'", ())

        self._index_work(work)


def _matching(q: LookupQuery, rows: Sequence[Sequence[Any]]) -> list[StoredEvent]:
    """Rows ``(event columns..., attrs, read_only)`` that satisfy ``q``'s
    attribute and time window, checked one by one (unindexed events)."""
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
