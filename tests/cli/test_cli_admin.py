"""Admin commands against a data dir, and while a server runs."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from tests.support.live_server import run_cli as run
from tests.support.live_server import start_server


def test_help_everywhere() -> None:
    for args in (
        ["--help"],
        ["server", "--help"],
        ["accounts", "create", "--help"],
        ["root", "rotate", "--help"],
        ["policy", "simulate", "--help"],
    ):
        result = run(*args)
        assert result.returncode == 0, result.stderr
        assert "Usage:" in result.stdout


def test_accounts_create_and_list(tmp_path: Path) -> None:
    created = run(
        "accounts",
        "create",
        "team-a",
        "--account-id",
        "111111111111",
        "--data-dir",
        str(tmp_path),
        "--json",
    )
    assert created.returncode == 0, created.stderr
    row = json.loads(created.stdout)[0]
    assert row["AccountId"] == "111111111111"
    assert row["AccessKeyId"].startswith("AKIA")
    listed = json.loads(run("accounts", "list", "--data-dir", str(tmp_path), "--json").stdout)
    assert any(a["AccountId"] == "111111111111" and a["Name"] == "team-a" for a in listed)
    again = run(
        "accounts", "create", "team-b", "--account-id", "111111111111", "--data-dir", str(tmp_path)
    )
    assert again.returncode != 0
    bad = run("accounts", "create", "x", "--account-id", "12", "--data-dir", str(tmp_path))
    assert bad.returncode == 2  # usage error


def test_root_rotate_while_serving(tmp_path: Path) -> None:
    live = start_server(tmp_path / "rot")
    try:
        iam = live.client("iam")
        iam.create_user(UserName="before-rotation")
        key = iam.create_access_key(UserName="before-rotation")["AccessKey"]
        rotated = run("root", "rotate", "--data-dir", str(live.data_dir), "--json")
        assert rotated.returncode == 0, rotated.stderr
        report = json.loads(rotated.stdout)[0]
        assert report["term"] == 2 and report["resealed"] > 0
        # The running server keeps reading old and new values and writing new ones.
        assert live.client("sts", key).get_caller_identity()["Arn"].endswith("user/before-rotation")
        iam.create_user(UserName="after-rotation")
        assert {"before-rotation", "after-rotation"} <= {
            u["UserName"] for u in iam.list_users()["Users"]
        }
    finally:
        live.stop()


def test_passphrase_root_key(tmp_path: Path) -> None:
    env = {"STRONGROOM_ROOT_PASSPHRASE": "a long and secret passphrase"}
    live = start_server(tmp_path / "pp", env=env)
    try:
        live.client("iam").create_user(UserName="sealed-by-passphrase")
    finally:
        live.stop()
    assert not (tmp_path / "pp" / "root.key").exists()
    wrong = run(
        "accounts",
        "list",
        "--data-dir",
        str(tmp_path / "pp"),
        env={"STRONGROOM_ROOT_PASSPHRASE": "wrong"},
    )
    assert wrong.returncode != 0
    assert "Traceback" not in wrong.stderr
    refused = run(
        "server",
        "--data-dir",
        str(tmp_path / "pp"),
        "--port",
        "1",
        env={"STRONGROOM_ROOT_PASSPHRASE": "wrong"},
    )
    assert refused.returncode == 3
    assert "cannot open the data store" in refused.stdout + refused.stderr


def test_policy_simulate_explains(tmp_path: Path) -> None:
    policy = tmp_path / "p.json"
    policy.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ReadOnly",
                        "Effect": "Allow",
                        "Action": "kms:Describe*",
                        "Resource": "*",
                    },
                    {
                        "Sid": "NoDelete",
                        "Effect": "Deny",
                        "Action": "kms:ScheduleKeyDeletion",
                        "Resource": "*",
                    },
                ],
            }
        )
    )
    allowed = run(
        "policy", "simulate", "--policy", str(policy), "--action", "kms:DescribeKey", "--json"
    )
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)[0]["Decision"] == "allowed"
    assert "ReadOnly" in json.loads(allowed.stdout)[0]["Explanation"]
    denied = run(
        "policy",
        "simulate",
        "--policy",
        str(policy),
        "--action",
        "kms:ScheduleKeyDeletion",
        "--action",
        "kms:Encrypt",
        "--json",
    )
    assert denied.returncode == 1
    rows = {r["Action"]: r for r in json.loads(denied.stdout)}
    assert rows["kms:ScheduleKeyDeletion"]["Decision"] == "explicitDeny"
    assert "NoDelete" in rows["kms:ScheduleKeyDeletion"]["Explanation"]
    assert rows["kms:Encrypt"]["Decision"] == "implicitDeny"
    malformed = tmp_path / "bad.json"
    malformed.write_text('{"Statement": [{"Effect": "Maybe"}]}')
    bad = run("policy", "simulate", "--policy", str(malformed), "--action", "kms:Encrypt")
    assert bad.returncode == 1 and "malformed policy" in bad.stderr


def test_two_workers_serve_and_share_state(tmp_path: Path) -> None:
    live = start_server(tmp_path / "w2", "--workers", "2")
    try:
        iam = live.client("iam")
        for i in range(6):  # spread over both workers
            iam.create_user(UserName=f"w{i}")
        assert {f"w{i}" for i in range(6)} <= {u["UserName"] for u in iam.list_users()["Users"]}
        with pytest.raises(ClientError) as exc:
            iam.get_user(UserName="nobody-here")
        assert exc.value.response["Error"]["Code"] == "NoSuchEntity"
    finally:
        live.stop(signal.SIGTERM)
