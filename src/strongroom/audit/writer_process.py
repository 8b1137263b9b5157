"""The audit writer process: group commit without sharing a GIL.

A server worker's event loop is busy with Python all the time; a writer
*thread* in the same process must win the GIL back after every database
call, and each hand-over costs both threads tens of microseconds, per
batch, which measured as 40-90 us per request. So each worker process
starts one child that does nothing but append batches to the audit log and
acknowledge them after commit.

Parent side (:class:`ProcessWriter`, event loop thread only): requests
join the open batch with the callback that continues them; the batch's
rows are built and sent a few turns of the loop later
(``FLUSH_AFTER_TURNS`` in :mod:`strongroom.audit.writer`), so everything
that reached the audit step meanwhile travels together, over a
non-blocking socket (one send per batch, not per request). Acks are read
by a reader callback on the same loop. No thread, no lock.

Child side (:mod:`strongroom.audit.writer_child`): read every frame available, append them all in
one transaction (batches that queued while the previous commit ran are
committed together), acknowledge each. It exits when the parent goes away
(end of file), so it never outlives its worker.

Failure is never silent: if the child dies, or a commit fails, the waiting
requests get False and the gateway fails them (fail-closed).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import time
import weakref

from strongroom.audit.wire import ACK, frame, row_tuple, spawn_child, stop_child
from strongroom.audit.writer import (
    FLUSH_AFTER_TURNS,
    Done,
    LoopWriter,
    RowBuilder,
    answer,
    build_batch,
    call_after_turns,
)
from strongroom.config import Settings

log = logging.getLogger("strongroom.audit")

_RESPAWN_AFTER = 1.0


class ProcessWriter(LoopWriter):
    """The parent end. Used from one event loop thread at a time."""

    def __init__(self, settings: Settings) -> None:
        # What the child needs to open the store and the barrier: it seals
        # the bodies itself, so the event loop does not pay for it.
        self._config = {
            "store": settings.store,
            "data_dir": str(settings.data_dir.resolve()),
            "root_passphrase": settings.root_passphrase,
            "write_timeout": settings.audit_write_timeout,
            "sync": settings.audit_sync,
        }
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[tuple[RowBuilder, Done]] = []
        self._scheduled = False
        self._inflight: dict[int, list[Done]] = {}
        self._next_id = 1
        self._out = bytearray()  # unsent bytes when the socket buffer was full
        self._in = bytearray()
        self._failed_at = 0.0
        self.batches = 0
        self.rows = 0
        _LIVE.add(self)

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Spawn the child (its imports take a moment; frames wait in the socket)."""
        if self._sock is not None:
            return
        self._proc, parent = spawn_child("strongroom.audit.writer_child", self._config)
        parent.setblocking(False)
        self._sock = parent
        self._in.clear()
        self._out.clear()

    def close(self) -> None:
        self._fail_all()
        sock, self._sock = self._sock, None
        if sock is not None:
            self._unbind(sock)
        proc, self._proc = self._proc, None
        stop_child(proc, sock)  # the child sees end of file, finishes, and exits

    # -- submitting -------------------------------------------------------------------

    def submit_then(self, build: RowBuilder, done: Done) -> None:
        """Join the next send (``build`` makes the rows then); ``done`` is
        called, on the loop, with whether they were committed."""
        loop = asyncio.get_running_loop()
        if self._sock is None:
            if time.monotonic() - self._failed_at < _RESPAWN_AFTER:
                answer(done, False)
                return
            try:
                self.start()
            except Exception:
                log.exception("cannot start the audit writer process")
                self._failed_at = time.monotonic()
                answer(done, False)
                return
        if self._loop is not loop:
            self._bind(loop)
        self._pending.append((build, done))
        if not self._scheduled:
            self._scheduled = True
            # A few turns' requests per send (strongroom.audit.writer).
            call_after_turns(loop, FLUSH_AFTER_TURNS, self._send_batch)

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read acks on ``loop`` (a server has one loop; tests make many)."""
        assert self._sock is not None
        self._unbind(self._sock)
        if self._inflight or self._pending:
            # Waiters of a loop that is gone can never be answered there.
            self._fail_all()
        # A send the old loop scheduled may never run (it ended first): this
        # loop schedules its own.
        self._scheduled = False
        self._loop = loop
        loop.add_reader(self._sock.fileno(), self._on_readable)

    def _unbind(self, sock: socket.socket) -> None:
        old = self._loop
        self._loop = None
        if old is not None and not old.is_closed():
            old.remove_reader(sock.fileno())
            old.remove_writer(sock.fileno())

    def _send_batch(self) -> None:
        self._scheduled = False
        if not self._pending or self._sock is None:
            return
        pending, self._pending = self._pending, []
        built, waiters = build_batch(pending)
        if not waiters:
            return
        rows = [row_tuple(r) for r in built]
        batch_id = self._next_id
        self._next_id += 1
        self._inflight[batch_id] = waiters
        self.batches += 1
        self.rows += len(rows)
        self._write(frame((batch_id, rows)))

    def _write(self, data: bytes) -> None:
        assert self._sock is not None
        if self._out:
            self._out += data
            return
        try:
            sent = self._sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._broken("the audit writer process connection failed")
            return
        if sent < len(data):
            self._out += data[sent:]
            assert self._loop is not None
            self._loop.add_writer(self._sock.fileno(), self._on_writable)

    def _on_writable(self) -> None:
        if self._sock is None:
            return
        try:
            sent = self._sock.send(self._out)
        except BlockingIOError:
            return
        except OSError:
            self._broken("the audit writer process connection failed")
            return
        del self._out[:sent]
        if not self._out and self._loop is not None:
            self._loop.remove_writer(self._sock.fileno())

    def _on_readable(self) -> None:
        if self._sock is None:
            return
        try:
            data = self._sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._broken("the audit writer process exited")
            return
        self._in += data
        usable = len(self._in) - len(self._in) % ACK.size
        for offset in range(0, usable, ACK.size):
            batch_id, ok = ACK.unpack_from(self._in, offset)
            for done in self._inflight.pop(batch_id, ()):
                answer(done, bool(ok))
        del self._in[:usable]

    def _broken(self, why: str) -> None:
        log.error("%s; requests waiting for their audit records fail", why)
        self._failed_at = time.monotonic()
        self.close()

    def _fail_all(self) -> None:
        waiting = [d for ds in self._inflight.values() for d in ds]
        waiting += [d for _, d in self._pending]
        self._inflight, self._pending = {}, []
        for done in waiting:
            answer(done, False)

    def _after_fork(self) -> None:
        # The socket and child belong to the parent process: forget them.
        self._sock = None
        self._proc = None
        self._loop = None
        self._inflight, self._pending = {}, []


_LIVE: weakref.WeakSet[ProcessWriter] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for writer in list(_LIVE):
        writer._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
