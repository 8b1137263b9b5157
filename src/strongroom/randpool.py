"""Random bytes from the operating system, fetched 4 KiB at a time.

Every request needs a few random values (a request id, an event id, the
nonces of the values it seals), and each ``getrandom`` system call costs
microseconds on a virtual machine, more than the bytes themselves. These
are the same bytes ``os.urandom`` gives, handed out in order and never
twice: one buffer per thread, and a forked child starts with none (it must
not repeat its parent's nonces).

The buffers are found by thread id in a plain dict rather than through
``threading.local``, whose attribute lookups made one call cost ~4,900
instructions against ~3,500. A thread id is reused only after its thread
has ended, and the buffer it finds has never handed out what comes next,
so reuse repeats nothing. The dicts are emptied when they hold more than
_MAX_THREADS buffers (threads that ended leave theirs behind); a thread then
starts a fresh buffer, which repeats nothing either.
"""

from __future__ import annotations

import os
from threading import get_ident

_CHUNK = 4096


class _Pool:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes | str) -> None:
        self.buf = buf
        self.pos = len(buf)  # empty until the first draw refills it


_pools: dict[int, _Pool] = {}
_hex_pools: dict[int, _Pool] = {}
_MAX_THREADS = 1024


def _new_pool(pools: dict[int, _Pool], empty: bytes | str) -> _Pool:
    if len(pools) >= _MAX_THREADS:
        pools.clear()
    pool = pools[get_ident()] = _Pool(empty)
    return pool


def random_bytes(n: int) -> bytes:
    """``n`` bytes (at most 4 KiB) of ``os.urandom`` output."""
    pool = _pools.get(get_ident())
    if pool is None:
        pool = _new_pool(_pools, b"")
    pos = pool.pos
    if pos + n > len(pool.buf):
        pool.buf, pos = os.urandom(max(_CHUNK, n)), 0
    pool.pos = pos + n
    buf: bytes = pool.buf  # type: ignore[assignment]
    return buf[pos : pos + n]


def random_hex(n: int) -> str:
    """``n`` random hexadecimal digits (at most 8 KiB), for identifiers:
    slicing text already in hex saves encoding bytes on every call."""
    pool = _hex_pools.get(get_ident())
    if pool is None:
        pool = _new_pool(_hex_pools, "")
    pos = pool.pos
    if pos + n > len(pool.buf):
        pool.buf, pos = os.urandom(max(_CHUNK, (n + 1) // 2)).hex(), 0
    pool.pos = pos + n
    text: str = pool.buf  # type: ignore[assignment]
    return text[pos : pos + n]


def _forget_after_fork() -> None:
    _pools.clear()
    _hex_pools.clear()


os.register_at_fork(after_in_child=_forget_after_fork)
