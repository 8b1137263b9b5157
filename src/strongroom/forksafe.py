"""The current process id without a system call per use.

``os.getpid()`` is a system call (glibc stopped caching it), and the
storage and audit layers ask "was I inherited across a fork?" on every
database call; this answers from a value refreshed after each fork.
"""

from __future__ import annotations

import os

_pid = os.getpid()


def _after_fork() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_after_fork)


def current_pid() -> int:
    return _pid
