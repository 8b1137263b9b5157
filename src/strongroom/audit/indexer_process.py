"""The audit spool's mover and the lookup index job, in a process of their
own (servers on SQLite).

Indexing (strongroom.audit.postings) is partly Python: run as a thread of
the leader worker it took the interpreter lock from that worker's event
loop for milliseconds at a time, which cost the audited server ~15 % of
its throughput while the job ran. Moving the spool into the events table
(ten times a second, strongroom.audit.spool) is the same kind of
work. This process moves sealed bytes, reads events and writes the side
file's posting rows, so it needs neither the barrier nor the key-value
store: the database URL is all it gets.

The leader's ``audit-index`` job keeps one running (:meth:`IndexerProcess.ensure`);
it exits when its parent goes (end of file on the socket), so a new leader
starts its own.
"""

from __future__ import annotations

import logging
import select
import socket
import subprocess
import threading
import time
from datetime import datetime
from typing import Any

from strongroom.audit.log import AuditLog
from strongroom.audit.wire import run_child, spawn_child, split_frames, stop_child

log = logging.getLogger("strongroom.audit")

# The index waits while events keep arriving (lookups read the unindexed
# tail directly), until this many are waiting.
INDEX_BACKLOG = 40_000
_EVERY = 1.0  # seconds between two looks at the backlog
# Seconds between two moves of the spool into the database. Each move is a
# transaction with fixed costs (listing and locking the spool files, the
# partly filled last pages written to the WAL again): every 100 ms instead
# of 20 cost this process 13 instead of 18 µs of CPU per audited Encrypt
# (three runs each, 2 workers under wrk). A reader finds at most that much
# left to move itself (about 1,000 events, ~8 ms, at 10,000 requests/s).
_INGEST_EVERY = 0.1
_BUDGET = 0.5  # seconds of indexing at most per look


class QuietIndexer:
    """Index when appends pause, or when :data:`INDEX_BACKLOG` events wait.

    Indexing is cheapest in bulk: a chunk of one application's events
    shares its posting rows."""

    def __init__(self, audit_log: AuditLog) -> None:
        self.log = audit_log
        self._seen = -1

    def run(self, now: datetime | None = None) -> int:
        backlog = self.log.last_seq() - self.log.indexed_seq()
        growing = backlog > self._seen >= 0
        self._seen = backlog
        if backlog == 0 or (growing and backlog < INDEX_BACKLOG):
            return 0
        done = index_for(self.log, _BUDGET)
        self._seen = self.log.last_seq() - self.log.indexed_seq()
        return done


def index_for(audit_log: AuditLog, budget_seconds: float) -> int:
    """Index chunks until none is left or ``budget_seconds`` have passed."""
    deadline = time.monotonic() + budget_seconds
    total = 0
    while True:
        done = audit_log.index_pending(4096)
        total += done
        if done == 0 or time.monotonic() > deadline:
            return total


class IndexerProcess:
    """The parent's handle: start the child, restart it if it died."""

    def __init__(self, store_url: str, write_timeout: float) -> None:
        # Sent over the socket, never argv: a PostgreSQL URL may hold a password.
        self._config = {"store_url": store_url, "write_timeout": write_timeout}
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._closed = False
        self._mutex = threading.Lock()  # the job thread starts, the closing thread stops

    def ensure(self, now: datetime | None = None) -> None:
        """Start the indexer unless it runs (the leader's job, every second)."""
        with self._mutex:
            if not self._closed and (self._proc is None or self._proc.poll() is not None):
                self._start()

    def _start(self) -> None:
        if self._proc is not None:
            log.warning("audit indexer exited (%s); starting it again", self._proc.returncode)
        self._stop_child()
        self._proc, self._sock = spawn_child("strongroom.audit.indexer_process", self._config)

    def close(self) -> None:
        """Stop the child for good (the platform is closing)."""
        with self._mutex:
            self._closed = True
            self._stop_child()

    def _stop_child(self) -> None:
        proc, sock = self._proc, self._sock
        self._proc, self._sock = None, None
        stop_child(proc, sock)


def serve(sock: socket.socket) -> None:
    buf = bytearray()
    config: dict[str, Any] | None = None
    while config is None:
        data = sock.recv(1 << 16)
        if not data:
            return
        buf += data
        frames = split_frames(buf)
        if frames:
            config = frames[0]
    from strongroom.audit.backends import open_audit_log

    audit_log = open_audit_log(
        str(config["store_url"]), write_timeout=float(config["write_timeout"])
    )
    indexer = QuietIndexer(audit_log)
    next_index = time.monotonic() + _EVERY
    try:
        while True:
            ready, _, _ = select.select([sock], [], [], _INGEST_EVERY)
            if ready and not sock.recv(1 << 16):
                return  # the parent has gone
            try:
                audit_log.ingest()
            except Exception:  # readers move the spool themselves meanwhile
                log.exception("audit spool could not be moved into the database")
            if time.monotonic() < next_index:
                continue
            next_index = time.monotonic() + _EVERY
            try:
                indexer.run()
            except Exception:  # derived data: lookups read unindexed events anyway
                log.exception("audit lookup index could not be updated")
    finally:
        audit_log.close()


if __name__ == "__main__":
    run_child(serve, "audit-indexer")
