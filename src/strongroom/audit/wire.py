"""Frames between a server process and its audit child processes (the
writer of :mod:`strongroom.audit.writer_process`, the indexer of
:mod:`strongroom.audit.indexer_process`), and how those are started.

A frame is a 4-byte big-endian length and a pickle. Parent to child: first
the configuration ``{"store_url", "write_timeout"}`` (sent over the socket,
never argv, because a PostgreSQL URL may carry a password), then batches
``(batch_id, [row tuple, ...])`` to a writer. Writer to parent:
acknowledgements, 9 bytes each: batch id (8) and 1 for "committed" or 0 for
"failed". The indexer reads nothing after its configuration: the end of
the socket is its signal to exit.

Only the two ends of one socketpair, created by the parent, ever speak this:
pickle is safe here because neither end reads anything else.
"""

from __future__ import annotations

import logging
import pickle
import socket
import struct
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from strongroom.audit.log import AuditRow, RowKind

ACK = struct.Struct(">QB")
_LEN = struct.Struct(">I")


def frame(obj: Any) -> bytes:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _LEN.pack(len(payload)) + payload


def split_frames(buf: bytearray) -> list[Any]:
    """Remove and decode every complete frame at the start of ``buf``."""
    out: list[Any] = []
    pos = 0
    while len(buf) - pos >= _LEN.size:
        (size,) = _LEN.unpack_from(buf, pos)
        if len(buf) - pos - _LEN.size < size:
            break
        start = pos + _LEN.size
        out.append(pickle.loads(bytes(buf[start : start + size])))
        pos = start + size
    del buf[:pos]
    return out


def row_tuple(row: AuditRow) -> tuple[Any, ...]:
    return (
        row.kind is RowKind.INTENT,
        row.event_id,
        row.account,
        row.region,
        row.event_time_us,
        row.read_only,
        row.attrs,
        row.body,
        row.completes,
    )


def tuple_row(values: tuple[Any, ...]) -> AuditRow:
    intent, event_id, account, region, event_time_us, read_only, attrs, body, completes = values
    return AuditRow(
        RowKind.INTENT if intent else RowKind.EVENT,
        event_id,
        account,
        region,
        event_time_us,
        read_only,
        attrs,
        body,
        completes,
    )


def spawn_child(module: str, config: Any) -> tuple[subprocess.Popen[bytes], socket.socket]:
    """Start ``python -m module FD`` on one end of a socketpair and send it
    ``config`` as the first frame (never argv: a PostgreSQL URL may hold a
    password); the child exits when the parent's end closes."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, str(child.fileno())],
            pass_fds=(child.fileno(),),
            stdin=subprocess.DEVNULL,
        )
    except Exception:
        parent.close()
        raise
    finally:
        child.close()
    parent.sendall(frame(config))
    return proc, parent


def stop_child(proc: subprocess.Popen[bytes] | None, sock: socket.socket | None) -> None:
    """Close the parent's end (the child finishes and exits) and reap it."""
    if sock is not None:
        sock.close()
    if proc is not None:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_child(serve: Callable[[socket.socket], None], name: str) -> None:
    """A child's main: warnings to stderr as ``name``, ``serve`` its end of
    the socketpair (the fd number is argv[1]) until the parent goes."""
    logging.basicConfig(level=logging.WARNING, format=f"{name}: %(levelname)s %(message)s")
    sock = socket.socket(fileno=int(sys.argv[1]))
    try:
        serve(sock)
    finally:
        sock.close()
