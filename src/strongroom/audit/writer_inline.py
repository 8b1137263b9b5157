"""Group commit on the event loop's own thread (SQLite stores).

Every request that reaches the audit step during one turn of the event
loop joins the open batch; at the start of the next turn the batch is
sealed and appended in one transaction, right there, and its requests are
released. No thread and no process: nothing to hand over, no interpreter
lock to win back, no wake-up to wait for. The loop is blocked only for the
append itself, which is short because of what it writes: event rows at
the end of one table, no secondary index (the lookup index is built later,
in bulk, by a background job), and with ``audit_sync=normal`` no fsync.

Measured against the writer process it replaced as the SQLite default
(docs/benchmarks.md): a worker no longer idles while its batch travels to
another process and back, which with 8 connections per worker was what
bounded throughput.

Workers of one server append to the same file; ``SqliteAuditLog.append``
serialises them on an flock that is held only while a batch is written.
PostgreSQL keeps the writer process: its commits are network round trips,
which must not block a loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from strongroom.audit.log import AuditLog, AuditRow

if TYPE_CHECKING:
    from strongroom.audit.trail import Sealer

log = logging.getLogger("strongroom.audit")


class InlineWriter:
    """Batches per loop turn; seals and appends on the loop thread."""

    def __init__(self, audit_log: AuditLog, sealer: Sealer) -> None:
        self._log = audit_log
        self._sealer = sealer
        self._rows: list[AuditRow] = []
        self._waiters: list[asyncio.Future[bool]] = []
        self._scheduled = False
        self.batches = 0
        self.rows = 0

    def start(self) -> None:
        """Nothing to start: the first request's loop does the work."""

    def submit(self, rows: Sequence[AuditRow]) -> asyncio.Future[bool]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._rows.extend(rows)
        self._waiters.append(future)
        if not self._scheduled:
            self._scheduled = True
            # Callbacks added during a turn run in the next one, after
            # everything already ready: the batch is the whole turn.
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        self._scheduled = False
        rows, waiters = self._rows, self._waiters
        if not waiters:
            return
        self._rows, self._waiters = [], []
        ok = self.write(rows)
        for future in waiters:
            if not future.done():
                future.set_result(ok)

    def write(self, rows: list[AuditRow]) -> bool:
        """Seal and append ``rows`` in one transaction; False when they
        could not be persisted (the gateway then fails their requests)."""
        try:
            seal = self._sealer.seal
            for row in rows:
                row.body = seal(f"audit/{row.event_id}", row.body)
            self._log.append(rows, time.time_ns() // 1000)
        except Exception:
            log.exception("audit records could not be persisted (%d rows)", len(rows))
            return False
        self.batches += 1
        self.rows += len(rows)
        return True

    def close(self) -> None:
        waiters, self._waiters, self._rows = self._waiters, [], []
        for future in waiters:
            if not future.done():
                with contextlib.suppress(RuntimeError):  # its loop is closed
                    future.set_result(False)
