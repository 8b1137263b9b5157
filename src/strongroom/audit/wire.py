"""Frames between a server process and its audit writer process.

A frame is a 4-byte big-endian length and a pickle. Parent to child: first
the configuration ``{"store_url", "write_timeout"}`` (sent over the socket,
never argv, because a PostgreSQL URL may carry a password), then batches
``(batch_id, [row tuple, ...])``. Child to parent: acknowledgements, 9 bytes
each: batch id (8) and 1 for "committed" or 0 for "failed".

Only the two ends of one socketpair, created by the parent, ever speak this:
pickle is safe here because neither end reads anything else.
"""

from __future__ import annotations

import pickle
import struct
from typing import Any

from strongroom.audit.log import AuditRow, RowKind

ACK = struct.Struct(">QB")
_LEN = struct.Struct(">I")


def frame(obj: Any) -> bytes:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _LEN.pack(len(payload)) + payload


def split_frames(buf: bytearray) -> list[Any]:
    """Remove and decode every complete frame at the start of ``buf``."""
    out: list[Any] = []
    pos = 0
    while len(buf) - pos >= _LEN.size:
        (size,) = _LEN.unpack_from(buf, pos)
        if len(buf) - pos - _LEN.size < size:
            break
        start = pos + _LEN.size
        out.append(pickle.loads(bytes(buf[start : start + size])))
        pos = start + size
    del buf[:pos]
    return out


def row_tuple(row: AuditRow) -> tuple[Any, ...]:
    return (
        row.kind is RowKind.INTENT,
        row.event_id,
        row.account,
        row.region,
        row.event_time_us,
        row.read_only,
        row.attrs,
        row.body,
        row.completes,
    )


def tuple_row(values: tuple[Any, ...]) -> AuditRow:
    intent, event_id, account, region, event_time_us, read_only, attrs, body, completes = values
    return AuditRow(
        RowKind.INTENT if intent else RowKind.EVENT,
        event_id,
        account,
        region,
        event_time_us,
        read_only,
        attrs,
        body,
        completes,
    )
