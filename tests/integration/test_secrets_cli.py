"""Secrets Manager with the AWS CLI, unchanged, against a live server."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from tests.support.live_server import LiveServer

AWS = str(Path(sys.executable).with_name("aws"))


def _aws(server: LiveServer, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    akid, secret = server.admin_credentials()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp),
        "AWS_ACCESS_KEY_ID": akid,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "none"),
        "AWS_MAX_ATTEMPTS": "1",
    }
    return subprocess.run(
        [AWS, "--endpoint-url", server.endpoint, "secretsmanager", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}


def test_aws_cli_secret_lifecycle(server: LiveServer, tmp_path: Path) -> None:
    name = f"cli/{uuid.uuid4().hex[:8]}"
    created = _json(
        _aws(server, tmp_path, "create-secret", "--name", name, "--secret-string", "cli-one")
    )
    assert created["Name"] == name
    text = _aws(
        server,
        tmp_path,
        "get-secret-value",
        "--secret-id",
        name,
        "--query",
        "SecretString",
        "--output",
        "text",
    )
    assert text.stdout.strip() == "cli-one"
    _json(
        _aws(
            server, tmp_path, "put-secret-value", "--secret-id", name, "--secret-string", "cli-two"
        )
    )
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x00\x01binary\xff")
    _json(
        _aws(
            server,
            tmp_path,
            "update-secret",
            "--secret-id",
            name,
            "--secret-binary",
            f"fileb://{blob}",
        )
    )
    got = _json(_aws(server, tmp_path, "get-secret-value", "--secret-id", name))
    assert base64.b64decode(got["SecretBinary"]) == blob.read_bytes()
    described = _json(_aws(server, tmp_path, "describe-secret", "--secret-id", created["ARN"]))
    labels = [label for stages in described["VersionIdsToStages"].values() for label in stages]
    assert sorted(labels) == ["AWSCURRENT", "AWSPREVIOUS"]
    listed = _json(_aws(server, tmp_path, "list-secrets", "--filters", f"Key=name,Values={name}"))
    assert [s["Name"] for s in listed["SecretList"]] == [name]
    password = _json(_aws(server, tmp_path, "get-random-password", "--password-length", "20"))
    assert len(password["RandomPassword"]) == 20
    deleted = _json(
        _aws(
            server,
            tmp_path,
            "delete-secret",
            "--secret-id",
            name,
            "--force-delete-without-recovery",
        )
    )
    assert deleted["Name"] == name
    missing = _aws(server, tmp_path, "get-secret-value", "--secret-id", name)
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr
