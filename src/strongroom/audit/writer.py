"""Group commit: many requests' audit rows, one durable transaction.

Requests append their rows to the *open batch* and wait for it; one writer
thread per process repeatedly takes the open batch (everything that arrived
while it was busy with the previous one) and appends it to the log in one
transaction. The batch then tells its waiters whether it was persisted.
Nothing waits on a timer: under load batches grow by themselves, when idle
a lone request is written at once.

Waiting is per batch, not per request: a batch has at most one threading
Event (for synchronous callers) and one asyncio future per event loop, and
the writer wakes each loop once per batch (``call_soon_threadsafe``), so a
request costs the event loop a list append and an ``await``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence

from strongroom.audit.log import AuditLog, AuditRow

log = logging.getLogger("strongroom.audit")

# What a request hands an async writer: a function that builds its rows
# (unsealed), called when the writer takes the batch; None when they could
# not be built, which fails that request alone.
RowBuilder = Callable[[], "Sequence[AuditRow] | None"]
# What an async writer calls, once, with whether a request's rows were
# persisted: the gateway's continuation of the request itself, or
# settling a future for callers that await (``submit``).
Done = Callable[[bool], None]


# Loop turns from a batch's first request to its write (both async writers).
# Writing at the next turn (1) made batches of 2.5-4 rows under load; after
# three turns the requests of the turns in between have joined: batches
# twice as large, and the audited server 10-17 % faster on SQLite, 14 % on
# PostgreSQL (paired rounds; docs/design/audit.md, "Group commit"). A turn
# with callbacks ready does not wait for the network, so on an idle server
# the extra turns cost microseconds.
FLUSH_AFTER_TURNS = 3


def call_after_turns(
    loop: asyncio.AbstractEventLoop, turns: int, callback: Callable[[], object]
) -> None:
    """Run ``callback`` ``turns`` turns of ``loop`` from now (1: the next)."""
    if turns > 1:
        loop.call_soon(call_after_turns, loop, turns - 1, callback)
    else:
        loop.call_soon(callback)


def build_rows(build: RowBuilder) -> Sequence[AuditRow] | None:
    """``build()``, with an exception treated (and logged) as None."""
    try:
        return build()
    except Exception:
        log.exception("audit records could not be built")
        return None


def build_batch(
    pending: Sequence[tuple[RowBuilder, Done]],
) -> tuple[list[AuditRow], list[Done]]:
    """The rows of a batch's requests and who waits for them; a request
    whose rows cannot be built is answered False here, alone."""
    rows: list[AuditRow] = []
    waiters: list[Done] = []
    for build, done in pending:
        built = build_rows(build)
        if built is None:
            answer(done, False)
        else:
            rows += built
            waiters.append(done)
    return rows, waiters


def answer(done: Done, ok: bool) -> None:
    """Tell one waiter; one that fails is logged and does not stop the others."""
    try:
        done(ok)
    except Exception:
        log.exception("a request waiting for its audit records failed")


class LoopWriter:
    """What both async writers share: :meth:`submit` for callers that would
    rather await than be called back (the gateway uses ``submit_then``)."""

    def submit_then(self, build: RowBuilder, done: Done) -> None:
        raise NotImplementedError

    def submit(self, build: RowBuilder) -> asyncio.Future[bool]:
        """:meth:`submit_then`, answered through a future of the running loop."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.submit_then(build, functools.partial(settle, future))
        return future


def settle(future: asyncio.Future[bool], ok: bool) -> None:
    """Give a request its answer, unless it has one or its loop has ended."""
    if not future.done():
        try:  # not contextlib.suppress: that is an object per request
            future.set_result(ok)
        except RuntimeError:
            # Its loop has ended (it had callbacks to schedule there):
            # nobody waits for it any more.
            return


class Batch:
    """Rows committed together, and whoever waits for them."""

    __slots__ = ("_done", "_event", "_futures", "_lock", "_ok", "rows")

    def __init__(self) -> None:
        self.rows: list[AuditRow] = []
        self._lock = threading.Lock()
        self._done = False
        self._ok = False
        self._event: threading.Event | None = None
        self._futures: dict[asyncio.AbstractEventLoop, asyncio.Future[bool]] = {}

    @classmethod
    def failed(cls) -> Batch:
        batch = cls()
        batch._done = True
        return batch

    def resolve(self, ok: bool) -> None:
        with self._lock:
            self._ok = ok
            self._done = True
            event, futures = self._event, list(self._futures.items())
        if event is not None:
            event.set()
        for loop, future in futures:
            # A closed loop raises RuntimeError: nobody is waiting there.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, future, ok)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the batch is written; True when it was persisted."""
        with self._lock:
            if self._done:
                return self._ok
            if self._event is None:
                self._event = threading.Event()
            event = self._event
        if not event.wait(timeout):
            return False
        return self._ok

    async def wait_async(self) -> bool:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._done:
                return self._ok
            future = self._futures.get(loop)
            if future is None:
                future = self._futures[loop] = loop.create_future()
        # shield: a cancelled request must not cancel the shared future.
        return await asyncio.shield(future)


class GroupCommitWriter:
    """One per process; started on first use, stopped by :meth:`close`."""

    def __init__(
        self,
        audit_log: AuditLog,
        clock_us: Callable[[], int] = lambda: time.time_ns() // 1000,
        *,
        max_batch: int = 5000,
    ) -> None:
        self._log = audit_log
        self._clock_us = clock_us
        self._max_batch = max_batch
        self._init_state()
        _LIVE.add(self)
        self.batches = 0  # statistics, for tests and benchmarks
        self.rows = 0

    def _init_state(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._open = Batch()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, rows: Sequence[AuditRow]) -> Batch:
        """Queue ``rows`` for the next commit and return the batch to wait on."""
        with self._lock:
            if self._closed:
                return Batch.failed()
            if self._thread is None:
                _shorten_switch_interval()
                self._thread = threading.Thread(
                    target=self._run, name="strongroom-audit-writer", daemon=True
                )
                self._thread.start()
            batch = self._open
            first = not batch.rows
            batch.rows.extend(rows)
            if first:
                self._wake.notify()
            return batch

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop; later submits fail (fail-closed)."""
        with self._lock:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if self.batches:
            log.info("audit writer stopped: %d events in %d batches", self.rows, self.batches)

    def _take(self) -> Batch | None:
        with self._lock:
            while not self._open.rows and not self._closed:
                self._wake.wait()
            if not self._open.rows:
                return None
            batch, self._open = self._open, Batch()
            return batch

    def _run(self) -> None:
        try:
            while True:
                batch = self._take()
                if batch is None:
                    return
                ok = self._persist(batch)
                batch.resolve(ok)
        except BaseException:  # never leave a waiter hanging
            log.exception("audit writer stopped unexpectedly")
            with self._lock:
                self._closed = True
                pending = self._open
            pending.resolve(False)

    def _persist(self, batch: Batch) -> bool:
        rows = batch.rows
        try:
            # A huge backlog is written in bounded transactions. Should a
            # later one fail, the earlier rows stay: more is recorded than
            # answered, never less.
            for start in range(0, len(rows), self._max_batch):
                part = rows[start : start + self._max_batch]
                self._log.append(part, self._clock_us())
                self.rows += len(part)
            self.batches += 1
            return True
        except Exception:
            # The requests waiting on this batch fail; the next batch tries again.
            log.exception("audit records could not be persisted (%d rows)", len(rows))
            return False

    def _after_fork(self) -> None:
        # The writer thread does not exist in a forked child; start afresh.
        self._init_state()


# The writer thread re-takes the GIL after every database call; while the
# event loop thread is busy that waits up to the switch interval (5 ms by
# default), which would add tens of milliseconds to every batch. A shorter
# interval bounds the wait; it only costs anything while the writer wants
# the GIL.
SWITCH_INTERVAL = 0.0001


def _shorten_switch_interval() -> None:
    if True:
        sys.setswitchinterval(SWITCH_INTERVAL)


_LIVE: weakref.WeakSet[GroupCommitWriter] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for writer in list(_LIVE):
        writer._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
