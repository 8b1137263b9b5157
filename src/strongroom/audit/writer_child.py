"""The audit writer process itself (see :mod:`strongroom.audit.writer_process`).

Read every frame available, seal the bodies with the barrier, append them
all in one transaction (batches that queued while the previous commit ran
are committed together, at most one commit per ``COMMIT_INTERVAL``),
acknowledge each batch. Exit when the parent goes away (end of file).
Meanwhile a thread moves events into the lookup index in bulk.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
from typing import Any

from strongroom.audit.indexer_process import QuietIndexer
from strongroom.audit.log import AuditRow
from strongroom.audit.sealing import seal_rows
from strongroom.audit.wire import ACK, run_child, split_frames, tuple_row
from strongroom.config import Settings

log = logging.getLogger("strongroom.audit")

_INDEX_EVERY = 0.2  # seconds between indexing rounds
# Minimum time between two commits: measured with the platform benchmark,
# 1 ms halves the fsyncs under load and costs less latency than it saves;
# longer windows starve the event loop of requests to serve.
COMMIT_INTERVAL = 0.001


def _drain(sock: socket.socket, buf: bytearray, *, block: bool) -> bool:
    """Append to ``buf`` what the socket has (waiting for something first
    when ``block``); False once the parent has gone (end of file)."""
    sock.setblocking(block)
    try:
        data = sock.recv(1 << 20)
    except BlockingIOError:
        return True
    if not data:
        return False
    buf += data
    sock.setblocking(False)
    while True:  # whatever else has arrived joins this commit
        try:
            data = sock.recv(1 << 20)
        except BlockingIOError:
            return True
        if not data:
            return False
        buf += data


def serve(sock: socket.socket) -> None:
    buf = bytearray()
    pending: list[Any] = []
    config: dict[str, Any] | None = None
    while config is None:
        if not _drain(sock, buf, block=True):
            return
        frames = split_frames(buf)
        if frames:
            config, pending = frames[0], frames[1:]
    with _Sink(config) as sink:
        alive = True
        last_commit = 0.0
        while True:
            if not pending:
                if not alive:
                    return
                alive = _drain(sock, buf, block=True)
                pending = split_frames(buf)
                continue
            # Group-commit window: each commit costs an fsync whatever its
            # size, so under load batches are at least COMMIT_INTERVAL apart
            # and everything that arrives meanwhile joins. Idle, a lone
            # batch is committed at once (the window has long passed).
            wait = last_commit + COMMIT_INTERVAL - time.monotonic()
            while alive and wait > 0 and _readable(sock, wait):
                alive = _drain(sock, buf, block=False)
                pending += split_frames(buf)
                wait = last_commit + COMMIT_INTERVAL - time.monotonic()
            last_commit = time.monotonic()
            ids = [batch_id for batch_id, _ in pending]
            rows = [tuple_row(values) for _, batch in pending for values in batch]
            pending = []
            ok = 1 if sink.write(rows) else 0
            try:
                sock.setblocking(True)
                sock.sendall(b"".join(ACK.pack(batch_id, ok) for batch_id in ids))
            except OSError:
                return


def _readable(sock: socket.socket, timeout: float) -> bool:
    ready, _, _ = select.select([sock], [], [], timeout)
    return bool(ready)


class _Sink:
    """The store, barrier and audit log of the child."""

    def __init__(self, config: dict[str, Any]) -> None:
        from pathlib import Path

        from strongroom.audit.backends import open_audit_log
        from strongroom.bootstrap import root_key_provider
        from strongroom.crypto.root_key import open_barrier
        from strongroom.storage.factory import open_store

        settings = Settings(
            data_dir=Path(config["data_dir"]),
            store=str(config["store"]),
            root_passphrase=config["root_passphrase"],
        )
        self._raw = open_store(settings.store_url)
        self._barrier = open_barrier(self._raw, root_key_provider(settings))
        self._log = open_audit_log(
            settings.store_url,
            write_timeout=float(config["write_timeout"]),
            appender=True,
            sync=str(config.get("sync", "full")),
        )
        self._stop = threading.Event()
        self._indexer = threading.Thread(
            target=self._index_loop, name="strongroom-audit-indexer", daemon=True
        )
        self._indexer.start()

    def _index_loop(self) -> None:
        """Keep the lookup index behind the appends, in bulk, off the commit
        path, with the SQLite indexer process's policy (QuietIndexer: when
        the appends pause or the backlog is large; lookups read unindexed
        events directly, so they stay complete either way)."""
        indexer = QuietIndexer(self._log)
        while not self._stop.wait(_INDEX_EVERY):
            try:
                indexer.run()
            except Exception:  # derived data: lookups read unindexed events anyway
                log.exception("audit lookup index could not be updated")

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._indexer.join(timeout=30)
        self._log.close()
        self._raw.close()

    def write(self, rows: list[AuditRow]) -> bool:
        try:
            self._barrier.refresh_if_due(self._raw)  # a key rotation elsewhere
            seal_rows(self._barrier, rows)
            self._log.append(rows, time.time_ns() // 1000)
            return True
        except Exception:
            log.exception("audit records could not be persisted (%d rows)", len(rows))
            return False


if __name__ == "__main__":
    # The worker has already said what there is to say about the root key.
    logging.getLogger("strongroom.crypto").setLevel(logging.ERROR)
    run_child(serve, "audit-writer")
