"""Start real ``strongroom server`` processes for integration tests."""

from __future__ import annotations

import configparser
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

STRONGROOM = str(Path(sys.executable).with_name("strongroom"))
REGION = "us-east-1"
# No retries: a test must see the first answer, and errors must not be hidden.
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def admin_credentials(self) -> tuple[str, str]:
        parser = configparser.ConfigParser()
        parser.read(self.data_dir / "admin-credentials")
        section = parser["strongroom"]
        return section["aws_access_key_id"], section["aws_secret_access_key"]

    def client(
        self, service: str, creds: tuple[str, ...] | Mapping[str, str] | None = None, **kw: Any
    ) -> Any:
        if creds is None:
            creds = self.admin_credentials()
        if isinstance(creds, Mapping):  # an STS Credentials / IAM AccessKey dict
            creds = (
                creds["AccessKeyId"],
                creds["SecretAccessKey"],
                *([creds["SessionToken"]] if "SessionToken" in creds else []),
            )
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=kw.pop("region_name", REGION),
            aws_access_key_id=creds[0],
            aws_secret_access_key=creds[1],
            aws_session_token=creds[2] if len(creds) > 2 else None,
            config=kw.pop("config", NO_RETRY),
            **kw,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``strongroom ARGS`` in a subprocess, with no STRONGROOM_* setting
    inherited from the test run (only those in ``env``)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    return subprocess.run(
        [STRONGROOM, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **(env or {})},
    )


def database_bytes(data_dir: Path) -> bytes:
    """Every byte the server keeps about its data: the database, its WAL and
    side files, and the audit spool's files (for plaintext scans)."""
    files = [
        f
        for p in sorted(Path(data_dir).iterdir())
        if p.name.startswith("strongroom.db")
        for f in ([p] if p.is_file() else sorted(p.iterdir()))
        if f.is_file()
    ]
    return b"".join(f.read_bytes() for f in files)


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_strongroom/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not become healthy:\n{log_path.read_text()}")


def start_server(
    data_dir: Path, *args: str, env: Mapping[str, str] | None = None, port: int | None = None
) -> LiveServer:
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    full_env.update(env or {})
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [STRONGROOM, "server", "--port", str(port), "--data-dir", str(data_dir), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
    server = LiveServer(data_dir, port, process, log_path, dict(full_env))
    try:
        wait_healthy(server.endpoint, process, log_path)
    except Exception:
        server.stop(signal.SIGKILL)
        raise
    return server
