"""The lookup index as posting lists: one row per attribute value per chunk.

Indexing a chunk of events (a few thousand at a time, in seq order) groups
their index entries by (account, region, attribute, value) and writes ONE
row per group, holding every (event_time, seq) of that group packed in a
blob. Audit traffic repeats itself (one user, a few keys, a few operations)
so a chunk of 4,096 events becomes a few dozen rows instead of tens of
thousands of index entries: this is what made indexing cost a few
microseconds per event instead of tens (docs/benchmarks.md).

A lookup reads the rows of one (account, region, attribute, value) in
decreasing ``max_time`` order and keeps the newest ``limit`` entries; it
stops at the first row whose newest entry is older than everything it
kept, which is exact whatever order events were committed in. Only the
events finally chosen are read from the events table.

Every event also gets an entry under ``ALL`` (the lookup without an
attribute) and under ``ReadOnly`` ("true"/"false").
"""

from __future__ import annotations

import heapq
import json
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

from strongroom.audit.log import ALL, ATTRIBUTE_CODES

READ_ONLY = ATTRIBUTE_CODES["ReadOnly"]
EVENT_ID = ATTRIBUTE_CODES["EventId"]
_TRUE, _FALSE = "true", "false"


def read_only_value(flag: Any) -> str:
    return _TRUE if flag else _FALSE


def build(
    events: Iterable[tuple[int, str, str, int, Any, str]],
) -> list[tuple[str, str, str, str, int, int, int, bytes]]:
    """Posting rows for events ``(seq, account, region, event_time,
    read_only, attrs JSON)``: ``(account, region, attr, value, max_time,
    last_seq, min_time, entries)``.

    Events are first grouped by everything but their id (account, region,
    read-only flag and the rest of ``attrs``, as a string): the events of
    a chunk have few distinct shapes, so each shape's JSON is parsed once.
    """
    rows: list[tuple[str, str, str, str, int, int, int, bytes]] = []
    shapes: dict[tuple[str, str, Any, str], array[int]] = {}
    for seq, account, region, event_time, read_only, attrs in events:
        # EventId is looked up in the events table's own index (migration 5).
        rest = _without_event_id(attrs)
        shape = (account, region, bool(read_only), rest)
        entries = shapes.get(shape)
        if entries is None:
            entries = shapes[shape] = array("q")
        entries.append(event_time)
        entries.append(seq)
    groups: dict[tuple[str, str, str, str], array[int]] = {}
    for (account, region, read_only, rest), entries in shapes.items():
        keys = [(ALL, ""), (READ_ONLY, read_only_value(read_only))]
        keys += [(str(a), str(v)) for a, v in json.loads(rest) if a not in (ALL, EVENT_ID)]
        for attr, value in dict.fromkeys(keys):
            key = (account, region, attr, value)
            group = groups.get(key)
            if group is None:
                groups[key] = array("q", entries)
            else:
                group.extend(entries)
    for (account, region, attr, value), entries in groups.items():
        times = entries[0::2]
        rows.append(
            (
                account,
                region,
                attr,
                value,
                max(times),
                max(entries[1::2]),
                min(times),
                entries.tobytes(),
            )
        )
    return rows


_ID_PREFIX = '[["i",'
_ANY_ID = '["i",'


def _without_event_id(attrs: str) -> str:
    """``attrs`` without an EventId entry, as a JSON list.

    :func:`strongroom.audit.sql_log.attrs_json` no longer writes one (since
    migration 5); before, it wrote it first, and an id never holds a quote
    or a bracket; anything else (an older layout) is parsed in full."""
    if _ANY_ID not in attrs:
        return attrs
    if attrs.startswith(_ID_PREFIX):
        end = attrs.find("]", len(_ID_PREFIX))
        raw_id = attrs[len(_ID_PREFIX) : end]
        if end > 0 and raw_id.count('"') == 2 and "\\" not in raw_id:
            tail = attrs[end + 1 :]
            return "[" + tail[1:] if tail.startswith(",") else "[]"
    return json.dumps([entry for entry in json.loads(attrs) if entry[0] != EVENT_ID])


def entries_of(blob: bytes | memoryview) -> array[int]:
    out = array("q")
    out.frombytes(bytes(blob))
    return out


def newest(
    rows: Iterable[Sequence[Any]],
    limit: int,
    *,
    start_us: int | None = None,
    end_us: int | None = None,
    before: tuple[int, int] | None = None,
) -> list[tuple[int, int]]:
    """The newest ``limit`` (event_time, seq) of posting rows given as
    ``(max_time, entries)`` in decreasing ``max_time`` order."""
    kept: list[tuple[int, int]] = []  # a min-heap of the newest so far
    for max_time, blob in rows:
        if len(kept) >= limit and int(max_time) < kept[0][0]:
            break  # every later row is older than all that is kept
        entries = entries_of(blob)
        for i in range(0, len(entries), 2):
            entry = (entries[i], entries[i + 1])
            t = entry[0]
            if (start_us is not None and t < start_us) or (end_us is not None and t > end_us):
                continue
            if before is not None and entry >= before:
                continue
            if len(kept) < limit:
                heapq.heappush(kept, entry)
            elif entry > kept[0]:
                heapq.heapreplace(kept, entry)
    return sorted(kept, reverse=True)


def without_expired(blob: bytes | memoryview, cutoff_us: int) -> tuple[bytes, int, int] | None:
    """A row's entries without those older than ``cutoff_us``: (entries,
    min_time, last_seq), or None when nothing is left."""
    entries = entries_of(blob)
    kept = array("q")
    for i in range(0, len(entries), 2):
        if entries[i] >= cutoff_us:
            kept.append(entries[i])
            kept.append(entries[i + 1])
    if not kept:
        return None
    return kept.tobytes(), min(kept[0::2]), max(kept[1::2])
