"""Acknowledged writes survive kill -9, and nothing secret is stored in the clear."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.support.live_server import database_bytes, start_server


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    first = start_server(data_dir)
    iam = first.client("iam")
    names = [f"durable-{i}" for i in range(20)]
    for name in names:
        iam.create_user(UserName=name)  # each call returned 200: acknowledged
    key = iam.create_access_key(UserName=names[-1])["AccessKey"]
    first.stop(signal.SIGKILL)

    second = start_server(data_dir)
    try:
        listed = {u["UserName"] for u in second.client("iam").list_users()["Users"]}
        assert set(names) <= listed
        assert second.client("sts", key).get_caller_identity()["Arn"].endswith(f"user/{names[-1]}")
    finally:
        second.stop()


def test_no_secret_in_database_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "scan"
    live = start_server(data_dir)
    try:
        iam = live.client("iam")
        iam.create_user(UserName="scanned")
        key = iam.create_access_key(UserName="scanned")["AccessKey"]
        session = live.client("sts", key).get_session_token()["Credentials"]
        secrets = [
            key["SecretAccessKey"],
            session["SecretAccessKey"],
            session["SessionToken"],
            live.admin_credentials()[1],
        ]
    finally:
        live.stop(signal.SIGKILL)  # leave the WAL un-checkpointed: scan it too
    raw = database_bytes(data_dir)
    assert raw, "database files not found"
    for secret in secrets:
        assert secret.encode() not in raw
