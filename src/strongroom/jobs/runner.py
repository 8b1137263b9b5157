"""Run periodic jobs on exactly one process across all nodes.

Every server process starts a runner; each keeps trying the store's leader
lock (a PostgreSQL session advisory lock, or an flock beside the SQLite
file). The holder runs the jobs; when it dies its lock dies with its
connection and another process takes over at its next attempt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from strongroom.storage.base import LeaderLock

log = logging.getLogger("strongroom.jobs")

LOCK_NAME = "strongroom-jobs"


@dataclass
class Job:
    name: str
    every_seconds: float
    run: Callable[[datetime], object]
    next_due: float = 0.0


class JobRunner:
    def __init__(
        self,
        lock: LeaderLock,
        clock: Callable[[], datetime],
        *,
        poll_seconds: float = 1.0,
    ) -> None:
        self._lock = lock
        self._clock = clock
        self._poll = poll_seconds
        self._jobs: list[Job] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, name: str, every_seconds: float, run: Callable[[datetime], object]) -> None:
        self._jobs.append(Job(name, every_seconds, run))

    @property
    def leader(self) -> bool:
        return self._lock.held

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="strongroom-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._lock.held:
            self._lock.release()

    def run_due(self) -> None:
        """Run every job that is due now (the leader's tick; also callable from tests)."""
        mono = time.monotonic()
        for job in self._jobs:
            if mono < job.next_due:
                continue
            job.next_due = mono + job.every_seconds
            try:
                job.run(self._clock())
            except Exception:  # one failing job must not stop the others
                log.exception("background job %s failed", job.name)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self._lock.held or self._lock.try_acquire():
                    self.run_due()
            except Exception:
                log.exception("job runner tick failed")
            self._stop.wait(self._poll)
