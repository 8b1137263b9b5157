"""Random bytes from the operating system, fetched 4 KiB at a time.

Every request needs a few random values (a request id, an event id, the
nonces of the values it seals), and each ``getrandom`` system call costs
microseconds on a virtual machine, more than the bytes themselves. These
are the same bytes ``os.urandom`` gives, handed out in order and never
twice: one buffer per thread, and a forked child starts with an empty one
(it must not repeat its parent's nonces).
"""

from __future__ import annotations

import os
import threading

_CHUNK = 4096


class _Pool(threading.local):
    def __init__(self) -> None:
        self.buf = b""
        self.pos = 0


_pool = _Pool()


def random_bytes(n: int) -> bytes:
    """``n`` bytes (at most 4 KiB) of ``os.urandom`` output."""
    pool = _pool
    pos = pool.pos
    if pos + n > len(pool.buf):
        pool.buf, pos = os.urandom(max(_CHUNK, n)), 0
    pool.pos = pos + n
    return pool.buf[pos : pos + n]


def _forget_after_fork() -> None:
    global _pool
    _pool = _Pool()


os.register_at_fork(after_in_child=_forget_after_fork)
