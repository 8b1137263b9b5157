"""Several uvicorn worker processes, each with its own SO_REUSEPORT socket.

uvicorn's own supervisor (``uvicorn.run(workers=N)``) binds one listening
socket and every worker accepts from it. uvloop accepts every pending
connection at each wake-up, so when a client opens its connection pool at
once the first worker to wake can take nearly all of them while the others
idle (measured with wrk -c16: one worker served 99% of the requests in 1 of
40 runs on a quiet server, and in most runs while the leader worker was
busy with a startup job; throughput then drops by a third or more).
Here each worker listens on a socket of its own bound to the same address
with SO_REUSEPORT, and the kernel spreads new connections over them by a
hash of the connection's addresses.

The supervisor (the ``strongroom server`` process) only starts, watches,
restarts and stops the workers; it never accepts a connection.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

__all__ = ["STARTUP_FAILURE", "StartupFailure", "Supervisor"]

logger = logging.getLogger("uvicorn.error")

# A worker that has not finished its startup (application factory, lifespan
# startup: opening the store) by then is taken to be stuck.
READY_TIMEOUT = 60.0
# How long stopping workers may take to finish their requests (uvicorn's
# graceful shutdown) before they are killed.
SHUTDOWN_TIMEOUT = 30.0

# Workers are fresh interpreters: nothing of the supervisor's state (open
# database connections, threads) leaks into them, as with uvicorn's own.
_spawn = multiprocessing.get_context("spawn")


class StartupFailure(Exception):
    """A worker could not start; the supervisor has stopped the others."""


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # SO_REUSEADDR: connections of a previous server left in TIME_WAIT do
    # not keep the port.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def bind_probe(host: str, port: int) -> socket.socket:
    """Reserve ``host:port`` for our workers (the supervisor keeps this socket).

    The socket is bound *before* SO_REUSEPORT is set, so the bind fails if
    anything else holds the port, even another server's SO_REUSEPORT
    sockets (another ``strongroom server --workers`` on the same port would
    otherwise silently share its traffic with us). SO_REUSEPORT is then set,
    so that our workers can bind beside it. It never listens, so it receives
    no connections; port 0 becomes a real port here.
    """
    sock = _socket(host, port)
    try:
        sock.bind((host, port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    except BaseException:
        sock.close()
        raise
    return sock


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A worker's own listening socket, one of the SO_REUSEPORT group."""
    sock = _socket(host, port)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, telling the supervisor when it has started serving."""

    def __init__(self, config: uvicorn.Config, ready: Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._ready.set()


def _exit_with(parent: int) -> None:
    """Stop this worker when its supervisor is gone (killed with SIGKILL, say):
    an orphaned worker would keep serving and hold the port."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


def worker_main(options: dict[str, Any], ready: Event) -> None:
    """A worker process: listen on our own socket and run uvicorn on it.

    Top level, so that the spawn context can pickle it by reference.
    """
    # The terminal's Ctrl-C reaches the whole process group; the supervisor
    # answers it by sending SIGTERM. While uvicorn serves it installs its own
    # SIGINT/SIGTERM handlers (graceful shutdown, a second Ctrl-C forces),
    # and afterwards re-raises the signal it caught: ignored, rather than a
    # KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    config = uvicorn.Config(**options)  # also configures logging, as in uvicorn.run
    try:
        sock = listening_socket(config.host, config.port, config.backlog)
    except OSError as exc:
        logger.error("Cannot listen on %s:%d: %s", config.host, config.port, exc)
        sys.exit(STARTUP_FAILURE)
    server = _Server(config, ready)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _describe(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"was killed by {signal.Signals(-exitcode).name}"
    return f"exited with code {exitcode}"


@dataclass
class _Worker:
    process: BaseProcess
    ready: Event
    started_at: float
    serving: bool = False


class Supervisor:
    """Run ``workers`` uvicorn processes for ``options`` (``uvicorn.Config``
    keyword arguments) on one address; restart a worker that dies once it
    has served, stop everything if one fails to start.

    Construction reserves the port (an ``OSError`` if it is taken); ``port``
    is then the real port, even for port 0.
    """

    def __init__(self, workers: int, options: dict[str, Any]) -> None:
        config = uvicorn.Config(**options)  # logging for the supervisor's messages
        self._probe = bind_probe(config.host, config.port)
        self.port: int = self._probe.getsockname()[1]
        self._options = {**options, "port": self.port}
        self._count = workers
        self._workers: list[_Worker] = []
        self._stopping = False

    def _start_worker(self) -> _Worker:
        ready = _spawn.Event()
        process = _spawn.Process(
            target=worker_main, args=(self._options, ready), name="strongroom-worker"
        )
        process.start()
        return _Worker(process, ready, time.monotonic())

    def _check(self, index: int) -> None:
        """Notice a worker's readiness or death: restart it, or raise
        StartupFailure if it died (or hangs) before serving."""
        worker = self._workers[index]
        pid = worker.process.pid
        if not worker.serving and worker.ready.is_set():
            worker.serving = True
            logger.info("Worker process [%d] is serving", pid)
        exitcode = worker.process.exitcode
        if exitcode is None:
            if not worker.serving and time.monotonic() - worker.started_at > READY_TIMEOUT:
                raise StartupFailure(
                    f"worker process [{pid}] did not start serving within {READY_TIMEOUT:g} s"
                )
            return
        if self._stopping:  # a Ctrl-C that reached the worker first
            return
        if not worker.serving:
            # A broken configuration would fail the same way on every restart.
            raise StartupFailure(f"worker process [{pid}] {_describe(exitcode)} during startup")
        logger.warning("Worker process [%d] %s; restarting it", pid, _describe(exitcode))
        worker.process.close()
        self._workers[index] = self._start_worker()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM (then return), or a worker fails to
        start (then raise StartupFailure); either way every worker is stopped."""
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in handled}
        logger.info("Started supervisor process [%d] for %d workers", os.getpid(), self._count)
        try:
            for _ in range(self._count):
                self._workers.append(self._start_worker())
            while not self._stopping:
                # Wakes when a worker exits, else twice a second to see
                # readiness and signals.
                wait([w.process.sentinel for w in self._workers], timeout=0.5)
                for index in range(len(self._workers)):
                    self._check(index)
        finally:
            self._stop_workers()
            self._probe.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop_workers(self) -> None:
        """SIGTERM (uvicorn's graceful shutdown), then SIGKILL after
        SHUTDOWN_TIMEOUT."""
        self._stopping = True
        processes = [w.process for w in self._workers]
        for process in processes:
            if process.exitcode is None:
                process.terminate()
        deadline = time.monotonic() + SHUTDOWN_TIMEOUT
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in processes:
            if process.exitcode is None:
                logger.warning(
                    "Worker process [%d] did not stop within %g s; killing it",
                    process.pid,
                    SHUTDOWN_TIMEOUT,
                )
                process.kill()
                process.join()
        logger.info("Stopped supervisor process [%d]", os.getpid())
