"""Store behaviour across real processes: what server workers and the CLI rely on."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

COUNTER_BODY = """
for _ in range({n}):
    with store.transaction() as txn:
        current = int(txn.get("proc/counter") or b"0")
        txn.put("proc/counter", str(current + 1).encode())
print("done", flush=True)
"""


def _finish(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


def _wait_for_line(proc: subprocess.Popen[str], expected: str) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != expected:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"child said {line!r}, expected {expected!r}; stderr:\n{err}")


def test_two_processes_increment_without_lost_updates(backend: Any) -> None:
    store = backend.open()  # initialises schema (and keyring) before the race
    children = [backend.spawn(COUNTER_BODY.format(n=40)) for _ in range(2)]
    for child in children:
        assert _finish(child).strip() == "done"
    assert store.get("proc/counter") == b"80"


def test_leader_lock_excludes_other_process_and_frees_on_sigkill(backend: Any) -> None:
    store = backend.open()
    holder = backend.spawn(
        """
        import time
        lock = store.leader_lock("jobs")
        assert lock.try_acquire()
        print("held", flush=True)
        time.sleep(120)
        """
    )
    try:
        _wait_for_line(holder, "held")
        mine = store.leader_lock("jobs")
        assert mine.try_acquire() is False
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        # The database notices the dead session a moment later.
        deadline = time.monotonic() + 10
        while not mine.try_acquire():
            assert time.monotonic() < deadline, "lock not released after its holder died"
            time.sleep(0.05)
        assert mine.held
        mine.release()
    finally:
        holder.kill()
        holder.communicate()


def test_acknowledged_write_survives_sigkill(backend: Any) -> None:
    backend.open().close()
    value = os.urandom(64).hex()
    writer = backend.spawn(
        f"""
        import time
        store.put("durable/a", {value!r}.encode())
        with store.transaction() as txn:
            txn.put("durable/b", b"in a transaction")
        print("acked", flush=True)
        time.sleep(120)
        """
    )
    try:
        _wait_for_line(writer, "acked")
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    finally:
        writer.kill()
        writer.communicate()
    reopened = backend.open()
    assert reopened.get("durable/a") == value.encode()
    assert reopened.get("durable/b") == b"in a transaction"


def test_store_works_in_a_forked_child(backend: Any) -> None:
    """Workers may fork after the parent opened a store; neither may break the other."""
    store = backend.open()
    store.put("fork/parent", b"before")
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's connections
        code = 1
        try:
            store.put("fork/child", b"from child")
            code = 0 if store.get("fork/parent") == b"before" else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's pooled connections are intact.
    assert store.get("fork/child") == b"from child"
    store.put("fork/parent", b"after")
    assert store.get("fork/parent") == b"after"
