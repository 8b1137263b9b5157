"""``strongroom server --workers N``: one SO_REUSEPORT socket per worker
(strongroom.gateway.workers), restarts, shutdown, and refusing a taken port.

Worker processes are found through /proc: the server's children that hold a
listening socket on its port (the resource tracker and the audit indexer
hold none), and the connections each has accepted are its sockets in the
ESTABLISHED state on that port (Linux only).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.live_server import STRONGROOM, LiveServer, free_port, start_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

LISTEN, ESTABLISHED = "0A", "01"  # TCP states as /proc/net/tcp writes them


def tcp_states(port: int) -> dict[int, str]:
    """Socket inode -> TCP state, for sockets whose local port is ``port``."""
    states: dict[int, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            next(fh)  # header
            for line in fh:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    states[int(fields[9])] = fields[3]
    return states


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(int(target[len("socket:[") : -1]))
    except (FileNotFoundError, ProcessLookupError):  # it has just exited
        pass
    return inodes


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(entry))
    return found


def workers(live: LiveServer) -> dict[int, int]:
    """Worker pid -> connections it has accepted on the server's port."""
    states = tcp_states(live.port)
    found = {}
    for pid in children(live.process.pid):
        mine = [states[inode] for inode in socket_inodes(pid) if inode in states]
        if LISTEN in mine:
            found[pid] = mine.count(ESTABLISHED)
    return found


def serving_lines(live: LiveServer) -> int:
    return live.log().count("is serving")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def start_two(tmp_path: Path) -> LiveServer:
    """A server with two workers, both past their startup (a worker that
    dies before it serves stops the server, by design)."""
    live = start_server(tmp_path / "data", "--workers", "2")
    try:
        wait_for(lambda: serving_lines(live) >= 2, "both workers to serve")
    except BaseException:
        live.stop(signal.SIGKILL)
        raise
    return live


def health(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/_strongroom/health")
        return conn.getresponse().status
    finally:
        conn.close()


def test_connections_opened_at_once_reach_both_workers(tmp_path: Path) -> None:
    live = start_two(tmp_path)
    connections = [
        http.client.HTTPConnection("127.0.0.1", live.port, timeout=10) for _ in range(16)
    ]
    try:
        # The whole pool connects before any request, as wrk and boto3 do:
        # the burst that a single shared socket handed to one worker.
        for conn in connections:
            conn.connect()
        for conn in connections:  # keep-alive: each stays with its worker
            conn.request("GET", "/_strongroom/health")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
        accepted = workers(live)
        assert len(accepted) == 2, accepted
        assert sum(accepted.values()) == 16, accepted
        # The kernel hashes each connection to one of the two sockets: all
        # 16 on one has probability 2**-15.
        assert all(count > 0 for count in accepted.values()), accepted
    finally:
        for conn in connections:
            conn.close()
        live.stop()
    assert live.process.returncode == 0, live.log()


def test_a_killed_worker_is_restarted(tmp_path: Path) -> None:
    live = start_two(tmp_path)
    try:
        before = workers(live)
        assert len(before) == 2, before
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        wait_for(
            lambda: serving_lines(live) >= 3 and len(workers(live)) == 2,
            "a replacement worker",
        )
        after = workers(live)
        assert victim not in after
        assert set(before) - {victim} <= set(after)
        assert f"Worker process [{victim}] was killed by SIGKILL; restarting it" in live.log()
        for _ in range(10):
            assert health(live.port) == 200
        assert live.process.poll() is None
    finally:
        live.stop()
    assert live.process.returncode == 0, live.log()


def test_sigterm_stops_every_worker(tmp_path: Path) -> None:
    live = start_two(tmp_path)
    pids = list(workers(live))
    assert len(pids) == 2
    started = time.monotonic()
    live.process.send_signal(signal.SIGTERM)
    assert live.process.wait(timeout=15) == 0, live.log()
    assert time.monotonic() - started < 10
    for pid in pids:  # the supervisor joined them: no process left, not even a zombie
        assert not os.path.exists(f"/proc/{pid}"), pid
    assert "Traceback" not in live.log()


def run_server(data_dir: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    command = [STRONGROOM, "server", "--workers", "2", "--port", str(port)]
    return subprocess.run(
        [*command, "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def words(text: str) -> str:
    """The text with the console's line wrapping undone."""
    return " ".join(text.split())


def test_a_port_in_use_is_refused(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_server(tmp_path / "data", port)
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in words(result.stderr)
    assert "Traceback" not in result.stdout + result.stderr


def test_another_server_on_the_same_port_is_refused(tmp_path: Path) -> None:
    # The first server's sockets are all SO_REUSEPORT: a second server that
    # joined them would silently take half of its connections.
    live = start_two(tmp_path)
    try:
        result = run_server(tmp_path / "other", live.port)
        assert result.returncode != 0
        assert "Address already in use" in result.stderr
        assert health(live.port) == 200
    finally:
        live.stop()


def test_a_worker_that_cannot_start_stops_the_server(tmp_path: Path) -> None:
    # The workers load the TLS files; a missing one fails every worker's
    # startup, so the supervisor gives up instead of restarting forever.
    missing = tmp_path / "missing"
    started = time.monotonic()
    result = run_server(
        tmp_path / "data",
        free_port(),
        "--tls-cert",
        str(missing / "cert.pem"),
        "--tls-key",
        str(missing / "key.pem"),
    )
    assert result.returncode == 3, result.stderr
    assert "during startup; the server has stopped" in words(result.stderr)
    assert "restarting" not in result.stderr
    assert time.monotonic() - started < 30
