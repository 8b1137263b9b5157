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

# When another worker holds the log: try again on a later turn of the loop
# (uvloop's timers count milliseconds, so this is "after the next poll").
_RETRY_SECONDS = 0.0002


class InlineWriter:
    """Batches per loop turn; seals and appends on the loop thread."""

    def __init__(self, audit_log: AuditLog, sealer: Sealer, *, timeout: float = 10.0) -> None:
        self._log = audit_log
        self._sealer = sealer
        # How long a batch may find the log taken before its requests fail.
        self._timeout = timeout
        self._busy_since: float | None = None
        self._rows: list[AuditRow] = []
        self._waiters: list[asyncio.Future[bool]] = []
        self._scheduled = False
        self._sealed = 0  # how many of _rows are sealed already
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
        ok = self.write(rows)
        if ok is None:
            now = time.monotonic()
            if self._busy_since is None:
                self._busy_since = now
            if now - self._busy_since < self._timeout:
                # Another worker is appending: serve what else is ready and
                # try again on a later turn; requests arriving meanwhile join.
                self._scheduled = True
                asyncio.get_running_loop().call_later(_RETRY_SECONDS, self._flush)
                return
            log.error("the audit log stayed locked for %.0f s; failing the batch", self._timeout)
            ok = False
        self._busy_since = None
        self._rows, self._waiters, self._sealed = [], [], 0
        for future in waiters:
            if not future.done():
                future.set_result(ok)

    def write(self, rows: list[AuditRow]) -> bool | None:
        """Seal and append ``rows`` in one transaction; False when they
        could not be persisted (the gateway then fails their requests),
        None when another writer holds the log (nothing was written)."""
        try:
            seal = self._sealer.seal
            # Rows sealed by an attempt that found the log busy stay sealed.
            for row in rows[self._sealed :]:
                row.body = seal(f"audit/{row.event_id}", row.body)
            self._sealed = len(rows)
            if self._log.try_append(rows, time.time_ns() // 1000) is None:
                return None
        except Exception:
            log.exception("audit records could not be persisted (%d rows)", len(rows))
            return False
        self.batches += 1
        self.rows += len(rows)
        return True

    def close(self) -> None:
        waiters, self._waiters, self._rows, self._sealed = self._waiters, [], [], 0
        for future in waiters:
            if not future.done():
                with contextlib.suppress(RuntimeError):  # its loop is closed
                    future.set_result(False)
