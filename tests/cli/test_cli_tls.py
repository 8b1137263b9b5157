"""HTTPS with --tls-cert/--tls-key, and aws:SecureTransport in policies."""

from __future__ import annotations

import json
import ssl
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from tests.support.live_server import free_port
from tests.support.tls import self_signed_cert


def test_https_and_secure_transport_condition(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    port = free_port()
    # start_server polls http://; give it the TLS server through a plain-HTTP probe-free path:
    live = None
    try:
        live = _start_tls(tmp_path / "tls", cert, key, port)
        endpoint = f"https://localhost:{port}"
        akid, secret = live.admin_credentials()

        def client(service: str, creds: tuple[str, str]) -> object:
            return boto3.client(
                service,
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id=creds[0],
                aws_secret_access_key=creds[1],
                verify=str(cert),
                config=Config(retries={"max_attempts": 1}),
            )

        iam = client("iam", (akid, secret))
        iam.create_user(UserName="tls-only")  # type: ignore[attr-defined]
        new = iam.create_access_key(UserName="tls-only")["AccessKey"]  # type: ignore[attr-defined]
        iam.put_user_policy(
            UserName="tls-only",
            PolicyName="p",
            PolicyDocument=json.dumps(
                {  # type: ignore[attr-defined]
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "iam:ListUsers",
                            "Resource": "*",
                            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                        }
                    ],
                }
            ),
        )
        user_iam = client("iam", (new["AccessKeyId"], new["SecretAccessKey"]))
        assert user_iam.list_users()["Users"]  # type: ignore[attr-defined]
        iam.put_user_policy(
            UserName="tls-only",
            PolicyName="p",
            PolicyDocument=json.dumps(
                {  # type: ignore[attr-defined]
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "iam:ListUsers",
                            "Resource": "*",
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                }
            ),
        )
        with pytest.raises(ClientError) as exc:
            user_iam.list_users()  # type: ignore[attr-defined]
        assert exc.value.response["Error"]["Code"] == "AccessDenied"
    finally:
        if live is not None:
            live.stop()


def _start_tls(data_dir: Path, cert: Path, key: Path, port: int):  # type: ignore[no-untyped-def]
    import subprocess
    import time

    from tests.support.live_server import STRONGROOM, LiveServer

    data_dir.mkdir(parents=True)
    log_path = data_dir / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                STRONGROOM,
                "server",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                "--tls-cert",
                str(cert),
                "--tls-key",
                str(key),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    context = ssl.create_default_context(cafile=str(cert))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                f"https://localhost:{port}/_strongroom/health", context=context, timeout=2
            ) as resp:
                if resp.status == 200:
                    return LiveServer(data_dir, port, process, log_path)
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(log_path.read_text()) from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(log_path.read_text())
