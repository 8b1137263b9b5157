"""Live-server audit behaviours: fail-closed on a locked database, continuous
export, `strongroom audit tail`."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from tests.support.live_server import STRONGROOM, LiveServer, start_server

from strongroom.audit.verify import verify_export


def test_requests_fail_while_the_trail_cannot_be_written(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    # A file where the audit spool directory goes: no batch can be written
    # (root ignores permissions, so they cannot be used to refuse it).
    blocker = data / "strongroom.db-audit-spool"
    blocker.write_text("not a directory")
    server = start_server(data)
    try:
        iam, sts = server.client("iam"), server.client("sts")
        with pytest.raises(ClientError) as refused:
            iam.create_user(UserName="never-created")
        assert refused.value.response["Error"]["Code"] == "ServiceUnavailable"
        with pytest.raises(ClientError) as withheld:
            sts.get_caller_identity()
        assert withheld.value.response["Error"]["Code"] == "InternalFailure"
        blocker.unlink()
        with pytest.raises(ClientError) as missing:
            iam.get_user(UserName="never-created")
        assert missing.value.response["Error"]["Code"] == "NoSuchEntity"
        names = [
            json.loads(e["CloudTrailEvent"])["eventName"]
            for e in server.client("cloudtrail").lookup_events(MaxResults=50)["Events"]
        ]
        assert "CreateUser" not in names  # nothing ran, nothing was recorded
        assert "GetUser" in names  # the trail works again
    finally:
        server.stop()


def test_requests_fail_while_the_database_is_locked_with_the_process_writer(
    tmp_path: Path,
) -> None:
    # The writer process appends to the database itself: a database nobody
    # can write to fails requests after the write timeout.
    server = start_server(
        tmp_path / "data",
        env={"STRONGROOM_AUDIT_WRITE_TIMEOUT": "0.5", "STRONGROOM_AUDIT_WRITER": "process"},
    )
    try:
        sts = server.client("sts")
        assert sts.get_caller_identity()["Account"] == "000000000000"  # writer is up
        lock = sqlite3.connect(tmp_path / "data" / "strongroom.db", isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # hold the database write lock
        try:
            with pytest.raises(ClientError) as withheld:
                sts.get_caller_identity()
            assert withheld.value.response["Error"]["Code"] == "InternalFailure"
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert sts.get_caller_identity()["Account"] == "000000000000"
    finally:
        server.stop()


def test_continuous_export_and_tail(tmp_path: Path) -> None:
    export_dir = tmp_path / "trail"
    server = start_server(
        tmp_path / "data",
        env={
            "STRONGROOM_AUDIT_EXPORT_DIR": str(export_dir),
            "STRONGROOM_AUDIT_EXPORT_INTERVAL": "0.5",
        },
    )
    tail = None
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
        tail = subprocess.Popen(
            [
                STRONGROOM,
                "audit",
                "tail",
                "--data-dir",
                str(server.data_dir),
                "--json",
                "--interval",
                "0.2",
                "--event-name",
                "GetCallerIdentity",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        time.sleep(1.5)  # the tail is following
        server.client("sts").get_caller_identity()
        server.client("iam").list_users()
        assert tail.stdout is not None
        line = tail.stdout.readline()
        assert json.loads(line)["eventName"] == "GetCallerIdentity"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            logs = [p for p in export_dir.rglob("*.json.gz") if "/CloudTrail/" in str(p)]
            if logs:
                break
            time.sleep(0.3)
        assert logs, "continuous export wrote no log file"
        report = verify_export(export_dir)
        assert report.ok(allow_pending=True)  # written; digested at the hour
    finally:
        if tail is not None:
            tail.terminate()
            tail.wait(timeout=10)
        server.stop()


def test_search_cli(server: LiveServer) -> None:
    server.client("sts").get_caller_identity()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    out = subprocess.run(
        [
            STRONGROOM,
            "audit",
            "search",
            "--data-dir",
            str(server.data_dir),
            "--json",
            "--event-name",
            "GetCallerIdentity",
            "--max",
            "1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    [event] = json.loads(out.stdout)
    assert event["eventName"] == "GetCallerIdentity"
    both = subprocess.run(
        [
            STRONGROOM,
            "audit",
            "search",
            "--data-dir",
            str(server.data_dir),
            "--event-name",
            "A",
            "--username",
            "b",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert both.returncode == 2 and "at most one" in both.stderr
