"""Start and stop the servers under test, on loopback only.

Every server runs in its own session (process group) so that stopping it
also stops the workers it forked (uvicorn --workers, granian --workers):
we signal exactly the group we created, never processes found by name.
"""

from __future__ import annotations

import configparser
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench_calls import Endpoint
from bench_report import UNAUDITED_SUFFIX

LOOPBACK = "127.0.0.1"
VENV_BIN = Path(sys.executable).parent
MOTO_CREDENTIALS = ("testing", "testing")  # moto accepts any credentials


class ServerError(RuntimeError):
    """A server did not start or did not become ready; the message says why."""


def free_port() -> int:
    """A currently unused loopback port (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ManagedProcess:
    """A child process whose output goes to a log file we can show on failure."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left after ``grace``."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the group id is the leader's pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                continue
            # The leader is gone; give forked workers a moment, then make sure.
            _reap_group(pgid)
            break
        self.proc = None


def _reap_group(pgid: int) -> None:
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def wait_http(
    proc: ManagedProcess, host: str, port: int, path: str, need_200: bool, timeout: float = 60.0
) -> None:
    """Poll until the server answers ``GET path`` (with 200 when ``need_200``)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not proc.alive():
            raise ServerError(f"{proc.name} exited before it was ready:\n{proc.log_tail()}")
        conn = http.client.HTTPConnection(host, port, timeout=2.0)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if not need_200 or response.status == 200:
                return
            last = f"HTTP {response.status}"
        except OSError as exc:
            last = str(exc)
        finally:
            conn.close()
        time.sleep(0.2)
    raise ServerError(f"{proc.name} not ready after {timeout:.0f}s ({last}):\n{proc.log_tail()}")


@dataclass
class RunningServer:
    endpoint: Endpoint
    process: ManagedProcess
    description: str  # what runs, for the report

    def stop(self) -> None:
        self.process.stop()


def start_moto(workdir: Path) -> RunningServer:
    port = free_port()
    proc = ManagedProcess(
        "moto",
        [str(VENV_BIN / "moto_server"), "-H", LOOPBACK, "-p", str(port)],
        workdir / "moto.log",
    )
    proc.start()
    try:
        wait_http(proc, LOOPBACK, port, "/moto-api/", need_200=False)
    except BaseException:
        proc.stop()
        raise
    endpoint = Endpoint("moto", f"http://{LOOPBACK}:{port}", *MOTO_CREDENTIALS)
    return RunningServer(endpoint, proc, "moto_server (Flask/Werkzeug, threaded, 1 process)")


def _strongroom_env(data_dir: Path, port: int) -> dict[str, str]:
    """The STRONGROOM_* settings a worker rebuilds itself from (cf. export_settings)."""
    env = dict(os.environ)
    env.update(
        STRONGROOM_HOST=LOOPBACK,
        STRONGROOM_PORT=str(port),
        STRONGROOM_DATA_DIR=str(data_dir.resolve()),
        STRONGROOM_DEV="0",
        STRONGROOM_LOG_LEVEL="warning",
    )
    return env


_INIT_SNIPPET = (
    "from strongroom.cli.server import initialise;"
    "from strongroom.config import settings_from_env;"
    "initialise(settings_from_env())"
)


def start_strongroom(
    workdir: Path,
    server: str,
    workers: int,
    granian_args: Sequence[str] = (),
    *,
    audit: bool = True,
) -> RunningServer:
    """``strongroom server`` (uvicorn) or granian serving the same ASGI factory.

    ``granian_args`` are extra granian options (runtime threads, task
    implementation, ...) for trying its tuning knobs from the command line.
    ``audit=False`` turns the audit trail off (to measure what it costs).
    """
    port = free_port()
    label = f"strongroom-{server}-w{workers}" + ("" if audit else UNAUDITED_SUFFIX)
    data_dir = workdir / label / "data"
    data_dir.mkdir(parents=True)
    env = _strongroom_env(data_dir, port)
    env["STRONGROOM_AUDIT"] = "1" if audit else "0"
    log = workdir / f"{label}.log"
    if server == "uvicorn":
        argv = [
            str(VENV_BIN / "strongroom"),
            "server",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
        description = f"strongroom server: uvicorn (httptools, uvloop), {workers} worker(s)"
        if not audit:
            description += ", audit trail off"
    elif server == "granian":
        # granian knows nothing of our first-start initialisation, so run it
        # in a short-lived interpreter first, with the same environment.
        init = subprocess.run(
            [sys.executable, "-c", _INIT_SNIPPET], env=env, capture_output=True, timeout=120
        )
        if init.returncode != 0:
            output = (init.stdout + init.stderr).decode(errors="replace")
            raise ServerError(f"strongroom initialisation failed:\n{output}")
        argv = [
            str(VENV_BIN / "granian"),
            "--interface",
            "asgi",
            "--factory",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-ws",
            "--http",
            "1",
            "--loop",
            "uvloop",
            "--log-level",
            "warning",
            "--no-access-log",
            *granian_args,
            "strongroom.gateway.asgi:create_app",
        ]
        extra = f", {' '.join(granian_args)}" if granian_args else ""
        description = f"granian (ASGI, uvloop, HTTP/1{extra}), {workers} worker(s)"
        if not audit:
            description += ", audit trail off"
    else:
        raise ValueError(f"unknown server {server!r}")
    proc = ManagedProcess(label, argv, log, env)
    proc.start()
    try:
        wait_http(proc, LOOPBACK, port, "/_strongroom/health", need_200=True)
        if workers > 1:
            # Readiness of one worker is not readiness of all; let the others
            # finish importing so they are not timed while warming up.
            time.sleep(1.0)
        key_id, secret = read_admin_credentials(data_dir / "admin-credentials")
    except BaseException:
        proc.stop()
        raise
    endpoint = Endpoint(label, f"http://{LOOPBACK}:{port}", key_id, secret)
    return RunningServer(endpoint, proc, description)


def read_admin_credentials(path: Path) -> tuple[str, str]:
    parser = configparser.ConfigParser()
    if not parser.read(path) or "strongroom" not in parser:
        raise ServerError(f"no [strongroom] profile in {path}")
    section = parser["strongroom"]
    return section["aws_access_key_id"], section["aws_secret_access_key"]
