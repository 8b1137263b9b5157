"""SigV4 authentication end to end, through a live server and real clients."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

import pytest
from botocore.exceptions import ClientError
from tests.support.live_server import LiveServer


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _raw_post(server: LiveServer, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    req = urllib.request.Request(server.endpoint + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_admin_identity(server: LiveServer) -> None:
    ident = server.client("sts").get_caller_identity()
    assert ident["Account"] == "000000000000"
    assert ident["Arn"] == "arn:aws:iam::000000000000:user/admin"
    assert ident["UserId"].startswith("AIDA")


def test_admin_credentials_file_is_private(server: LiveServer) -> None:
    mode = (server.data_dir / "admin-credentials").stat().st_mode & 0o777
    assert mode == 0o600


def test_wrong_secret_is_signature_mismatch(server: LiveServer) -> None:
    akid, _ = server.admin_credentials()
    with pytest.raises(ClientError) as exc:
        server.client("sts", (akid, "x" * 40)).get_caller_identity()
    assert _code(exc) == "SignatureDoesNotMatch"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_access_key(server: LiveServer) -> None:
    with pytest.raises(ClientError) as exc:
        server.client("iam", ("AKIAUNKNOWNUNKNOWN00", "x" * 40)).list_users()
    assert _code(exc) == "InvalidClientTokenId"


def test_unsigned_request_is_missing_authentication(server: LiveServer) -> None:
    status, body = _raw_post(
        server,
        b"Action=GetCallerIdentity&Version=2011-06-15",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 403
    assert b"<Code>MissingAuthenticationToken</Code>" in body


def test_unsigned_json_request(server: LiveServer) -> None:
    status, body = _raw_post(
        server,
        b"{}",
        {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys"},
    )
    assert status == 400
    assert json.loads(body)["__type"].endswith("MissingAuthenticationTokenException")


def test_malformed_authorization_header(server: LiveServer) -> None:
    status, body = _raw_post(
        server,
        b"Action=GetCallerIdentity&Version=2011-06-15",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20240101/us-east-1/sts/aws4_request",
            "X-Amz-Date": "20240101T000000Z",
        },
    )
    assert status == 400
    assert b"<Code>IncompleteSignature</Code>" in body


def test_clock_skew_over_15_minutes_is_rejected(server: LiveServer) -> None:
    skewed = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)

    class FrozenDatetime(dt.datetime):
        @classmethod
        def utcnow(cls) -> dt.datetime:  # type: ignore[override]
            return skewed.replace(tzinfo=None)

        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return skewed if tz else skewed.replace(tzinfo=None)

    client = server.client("sts")
    with (
        mock.patch("botocore.auth.datetime.datetime", FrozenDatetime),
        pytest.raises(ClientError) as exc,
    ):
        client.get_caller_identity()
    assert _code(exc) == "SignatureDoesNotMatch"
    assert "Signature expired" in exc.value.response["Error"]["Message"]


def _presigned_get(server: LiveServer, expires: int = 60) -> str:
    """A GET URL presigned the way aws-iam-authenticator builds EKS tokens."""
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    akid, secret = server.admin_credentials()
    request = AWSRequest(
        method="GET",
        url=server.endpoint + "/",
        params={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
    )
    SigV4QueryAuth(Credentials(akid, secret), "sts", "us-east-1", expires=expires).add_auth(request)
    return str(request.prepare().url)


def test_presigned_get_caller_identity(server: LiveServer) -> None:
    with urllib.request.urlopen(_presigned_get(server), timeout=10) as resp:
        body = resp.read()
    assert b"arn:aws:iam::000000000000:user/admin" in body


def test_boto3_presigned_url_is_signed_for_post(server: LiveServer) -> None:
    # botocore presigns Query operations for their model's method (POST).
    url = server.client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=60)
    req = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert b"user/admin" in resp.read()


def test_presigned_url_tampered(server: LiveServer) -> None:
    tampered = _presigned_get(server).replace("X-Amz-Expires=60", "X-Amz-Expires=61")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(tampered, timeout=10)
    assert exc.value.code == 403
    assert b"SignatureDoesNotMatch" in exc.value.read()


def test_every_response_has_a_request_id(server: LiveServer) -> None:
    meta = server.client("sts").get_caller_identity()["ResponseMetadata"]
    assert meta["HTTPHeaders"]["x-amzn-requestid"]
    assert meta["RequestId"]


def test_body_over_limit_is_rejected_cleanly(server: LiveServer) -> None:
    status, body = _raw_post(
        server, b"x" * (11 * 1024 * 1024), {"Content-Type": "application/x-amz-json-1.1"}
    )
    assert status == 413
    assert b"RequestEntityTooLarge" in body


def test_health(server: LiveServer) -> None:
    with urllib.request.urlopen(server.endpoint + "/_strongroom/health", timeout=5) as resp:
        health = json.loads(resp.read())
    assert health["store"] == "sqlite"
    assert health["sealed"] is False
    assert health["version"]


def test_reset_refused_outside_dev_mode(server: LiveServer) -> None:
    status, _ = _raw_post_path(server, "/_strongroom/reset")
    assert status == 403


def _raw_post_path(server: LiveServer, path: str) -> tuple[int, bytes]:
    req = urllib.request.Request(server.endpoint + path, data=b"", method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_aws_cli_get_caller_identity(server: LiveServer, tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_SHARED_CREDENTIALS_FILE": str(server.data_dir / "admin-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    aws = str(Path(sys.executable).with_name("aws"))
    out = subprocess.run(
        [
            aws,
            "--profile",
            "strongroom",
            "--endpoint-url",
            server.endpoint,
            "sts",
            "get-caller-identity",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert json.loads(out.stdout)["Arn"] == "arn:aws:iam::000000000000:user/admin"


class TestDevMode:
    def test_any_credentials_default_account(self, dev_server: LiveServer) -> None:
        ident = dev_server.client("sts", ("test", "test")).get_caller_identity()
        assert ident["Account"] == "000000000000"
        assert ident["Arn"] == "arn:aws:iam::000000000000:root"

    def test_twelve_digit_key_selects_account(self, dev_server: LiveServer) -> None:
        ident = dev_server.client("sts", ("111122223333", "whatever")).get_caller_identity()
        assert ident["Account"] == "111122223333"

    def test_reset_wipes_state(self, dev_server: LiveServer) -> None:
        iam = dev_server.client("iam", ("test", "test"))
        iam.create_user(UserName="ephemeral")
        status, _ = _raw_post_path(dev_server, "/_strongroom/reset")
        assert status == 200
        with pytest.raises(ClientError) as exc:
            iam.get_user(UserName="ephemeral")
        assert _code(exc) == "NoSuchEntity"
