"""Group commit on the event loop's own thread (SQLite stores).

Every request that reaches the audit step within a few turns of the event
loop (:data:`FLUSH_AFTER_TURNS`) joins the open batch; then the batch's
rows are built, sealed and written to this process's spool file in one
``write``, right there, and its requests are released. No thread and no
process: nothing to hand over, no interpreter lock to win back, no
wake-up to wait for, and no lock shared with the other workers
(strongroom.audit.spool says why the batch goes to a file of its own
rather than straight into the database, and what a returned write
guarantees).

A batch holding a request entry (a mutating call is about to change
something) is flushed to disk with every other spool file before its
requests go on; with ``audit_sync=full`` every batch is.

PostgreSQL keeps the writer process: its commits are network round trips,
which must not block a loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from strongroom.audit.log import AuditRow, RowKind
from strongroom.audit.sealing import seal_rows
from strongroom.audit.writer import (
    FLUSH_AFTER_TURNS,
    Done,
    LoopWriter,
    RowBuilder,
    answer,
    build_batch,
    call_after_turns,
)

if TYPE_CHECKING:
    from strongroom.audit.sealing import Sealer
    from strongroom.audit.spool import SpoolWriter

log = logging.getLogger("strongroom.audit")


class InlineWriter(LoopWriter):
    """Batches a few loop turns at a time; builds, seals and spools on the loop thread."""

    def __init__(
        self,
        spool: SpoolWriter,
        sealer: Sealer,
        *,
        sync_every_batch: bool,
        flush_after_turns: int = FLUSH_AFTER_TURNS,
    ) -> None:
        self._spool = spool
        self._flush_after_turns = flush_after_turns
        self._sealer = sealer
        self._sync_every_batch = sync_every_batch
        self._pending: list[tuple[RowBuilder, Done]] = []
        # The loop that is to write the open batch. A loop that ended
        # before that turn never runs it: the next loop to submit schedules
        # its own, which writes what was left too.
        self._flush_loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0
        self.rows = 0

    def start(self) -> None:
        """Nothing to start: the first request's loop does the work."""

    def submit_then(self, build: RowBuilder, done: Done) -> None:
        """Join the open batch; ``build`` makes the rows when it is written,
        and ``done`` is then called, on the loop, with whether they were.

        Built then, not now: the records of a whole turn are built one
        after the other, while their code and caches are warm (measured
        in-process: 9 % of the CPU of an audited GetSecretValue, whose
        request runs a KMS call between two records)."""
        loop = asyncio.get_running_loop()
        self._pending.append((build, done))
        if self._flush_loop is not loop:
            self._flush_loop = loop
            # Callbacks added during a turn run in the next one, after
            # everything already ready: the batch is every request that
            # reaches this step in the turns until then.
            call_after_turns(loop, self._flush_after_turns, self._flush)

    def _flush(self) -> None:
        self._flush_loop = None
        pending, self._pending = self._pending, []
        rows, waiters = build_batch(pending)
        if not waiters:
            return
        ok = self.write(rows)
        for done in waiters:
            answer(done, ok)

    def write(self, rows: list[AuditRow]) -> bool:
        """Seal ``rows`` and write them as one batch; False when they could
        not be persisted (the gateway then fails their requests)."""
        try:
            seal_rows(self._sealer, rows)
            sync = self._sync_every_batch or any(r.kind is RowKind.INTENT for r in rows)
            self._spool.write(rows, time.time_ns() // 1000, sync=sync)
        except Exception:
            log.exception("audit records could not be persisted (%d rows)", len(rows))
            return False
        self.batches += 1
        self.rows += len(rows)
        return True

    def close(self) -> None:
        pending, self._pending = self._pending, []
        for _, done in pending:
            answer(done, False)
        self._spool.close()
