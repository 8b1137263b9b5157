"""CPU time of a server's whole process tree, read from /proc (Linux).

Requests per second move with everything else the shared machine does; the
CPU the server spends per request moves much less (the same audited server
did 9,900 and 12,900 req/s minutes apart, at 127-143 µs of CPU per request).
It also counts what req/s hides: the audit indexer process's work, for one.
Every server runs in a session of its own (bench_servers), so its process
group is exactly its tree: the supervisor, the workers and their helpers.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float | None:
    """User plus system CPU seconds of the live processes in group ``pgid``
    (None when there are none, or no /proc)."""
    ticks, found = 0, False
    try:
        entries = list(os.scandir("/proc"))
    except OSError:
        return None
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        # After "pid (comm) ": state, ppid, pgrp, ... utime (14th field), stime (15th).
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
            found = True
    return ticks / _TICKS_PER_SECOND if found else None
