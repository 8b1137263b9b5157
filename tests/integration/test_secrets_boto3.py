"""Secrets Manager end to end with boto3 against a live server: every operation,
the error codes clients see, rotation through an HTTP rotator that itself uses
boto3 (as a Lambda rotation function would), and SecretCache."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support.live_server import STRONGROOM, LiveServer

from strongroom.client import SecretCache, SecretCacheConfig
from strongroom.rotators.http import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature


def _code(call: Callable[..., Any], **params: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**params)
    return str(info.value.response["Error"]["Code"])


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture()
def sm(server: LiveServer) -> Any:
    return server.client("secretsmanager")


def test_value_lifecycle(sm: Any) -> None:
    name = _name("it/app")
    created = sm.create_secret(Name=name, SecretString='{"password":"one"}', Description="d")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == '{"password":"one"}'
    put = sm.put_secret_value(SecretId=created["ARN"], SecretString="two")
    assert put["VersionStages"] == ["AWSCURRENT"]
    prev = sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")
    assert prev["VersionId"] == created["VersionId"]
    sm.update_secret(SecretId=name, Description="new", SecretBinary=b"\x00\xffbinary")
    got = sm.get_secret_value(SecretId=name)
    assert got["SecretBinary"] == b"\x00\xffbinary"
    described = sm.describe_secret(SecretId=name)
    assert described["Description"] == "new"
    assert isinstance(described["CreatedDate"].year, int)
    assert len(described["VersionIdsToStages"]) == 2
    versions = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    assert len(versions) == 3
    sm.update_secret_version_stage(
        SecretId=name,
        VersionStage="AWSCURRENT",
        MoveToVersionId=put["VersionId"],
        RemoveFromVersionId=got["VersionId"],
    )
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "two"
    # Idempotent retry, then a conflicting reuse of the token.
    token = str(uuid.uuid4())
    sm.put_secret_value(SecretId=name, SecretString="three", ClientRequestToken=token)
    sm.put_secret_value(SecretId=name, SecretString="three", ClientRequestToken=token)
    assert _code(
        sm.put_secret_value, SecretId=name, SecretString="x", ClientRequestToken=token
    ) == ("ResourceExistsException")


def test_error_codes(sm: Any) -> None:
    name = _name("it/err")
    assert _code(sm.get_secret_value, SecretId=name) == "ResourceNotFoundException"
    sm.create_secret(Name=name, SecretString="v")
    assert _code(sm.create_secret, Name=name, SecretString="v") == "ResourceExistsException"
    assert _code(sm.get_secret_value, SecretId=name, VersionStage="nope") == (
        "ResourceNotFoundException"
    )
    assert _code(sm.delete_secret, SecretId=name, RecoveryWindowInDays=3) == (
        "InvalidParameterException"
    )
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    with pytest.raises(ClientError) as info:
        sm.get_secret_value(SecretId=name)
    assert info.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "marked for deletion" in info.value.response["Error"]["Message"]
    assert _code(sm.put_resource_policy, SecretId=name, ResourcePolicy="{") == (
        "InvalidRequestException"
    )
    sm.restore_secret(SecretId=name)
    assert _code(sm.put_resource_policy, SecretId=name, ResourcePolicy="{") == (
        "MalformedPolicyDocumentException"
    )
    public = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*"}
            ],
        }
    )
    assert (
        _code(sm.put_resource_policy, SecretId=name, ResourcePolicy=public, BlockPublicPolicy=True)
        == "PublicPolicyException"
    )
    assert sm.validate_resource_policy(ResourcePolicy=public)["PolicyValidationPassed"] is False
    assert _code(sm.create_secret, Name=_name("x"), SecretString="a" * 65537) in (
        "InvalidParameterException",
        "ValidationException",
    )
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert _code(sm.describe_secret, SecretId=name) == "ResourceNotFoundException"


def test_listing_tags_batch_and_password(sm: Any) -> None:
    prefix = _name("it/list")
    for i in range(3):
        sm.create_secret(
            Name=f"{prefix}/{i}", SecretString=str(i), Tags=[{"Key": "batch", "Value": prefix}]
        )
    pages = sm.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "name", "Values": [prefix]}], PaginationConfig={"PageSize": 2}
    )
    names = [s["Name"] for page in pages for s in page["SecretList"]]
    assert sorted(names) == [f"{prefix}/{i}" for i in range(3)]
    batch = sm.batch_get_secret_value(Filters=[{"Key": "tag-value", "Values": [prefix]}])
    assert sorted(v["SecretString"] for v in batch["SecretValues"]) == ["0", "1", "2"]
    sm.tag_resource(SecretId=f"{prefix}/0", Tags=[{"Key": "k", "Value": "v"}])
    sm.untag_resource(SecretId=f"{prefix}/0", TagKeys=["batch"])
    assert sm.describe_secret(SecretId=f"{prefix}/0")["Tags"] == [{"Key": "k", "Value": "v"}]
    pw = sm.get_random_password(PasswordLength=40, ExcludePunctuation=True)["RandomPassword"]
    assert len(pw) == 40 and pw.isalnum()


def test_resource_policy_round_trip(sm: Any, server: LiveServer) -> None:
    name = _name("it/pol")
    sm.create_secret(Name=name, SecretString="v")
    account = server.client("sts").get_caller_identity()["Account"]
    doc = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                }
            ],
        }
    )
    sm.put_resource_policy(SecretId=name, ResourcePolicy=doc, BlockPublicPolicy=True)
    assert sm.get_resource_policy(SecretId=name)["ResourcePolicy"] == doc
    assert sm.list_resource_policies(SecretId=name)["ResourcePolicies"] == [
        {"PolicyName": "default"}
    ]
    sm.delete_resource_policy(SecretId=name)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)


def test_replication_to_another_region(server: LiveServer, sm: Any) -> None:
    name = _name("it/rep")
    sm.create_secret(Name=name, SecretString="v1", AddReplicaRegions=[{"Region": "eu-west-1"}])
    eu = server.client("secretsmanager", region_name="eu-west-1")
    assert eu.get_secret_value(SecretId=name)["SecretString"] == "v1"
    sm.put_secret_value(SecretId=name, SecretString="v2")
    assert eu.get_secret_value(SecretId=name)["SecretString"] == "v2"
    assert _code(eu.put_secret_value, SecretId=name, SecretString="x") == "InvalidRequestException"
    sm.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=["eu-west-1"])
    assert _code(eu.describe_secret, SecretId=name) == "ResourceNotFoundException"


class _Rotation:
    """An HTTP rotation endpoint that checks Strongroom's signature and does
    the four steps with its own boto3 client."""

    def __init__(self, client: Any, key: bytes) -> None:
        self.client = client
        self.key = key
        self.steps: list[str] = []

    def step(self, headers: Any, body: bytes) -> int:
        if not verify_signature(
            self.key, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER]
        ):
            return 401
        event = json.loads(body)
        arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
        self.steps.append(step)
        if step == "createSecret":
            try:
                self.client.get_secret_value(
                    SecretId=arn, VersionId=token, VersionStage="AWSPENDING"
                )
            except ClientError:
                password = self.client.get_random_password(ExcludePunctuation=True)[
                    "RandomPassword"
                ]
                self.client.put_secret_value(
                    SecretId=arn,
                    ClientRequestToken=token,
                    SecretString=json.dumps({"password": password}),
                    VersionStages=["AWSPENDING"],
                )
        elif step == "finishSecret":
            stages = self.client.describe_secret(SecretId=arn)["VersionIdsToStages"]
            holder = next(v for v, s in stages.items() if "AWSCURRENT" in s)
            self.client.update_secret_version_stage(
                SecretId=arn,
                VersionStage="AWSCURRENT",
                MoveToVersionId=token,
                RemoveFromVersionId=holder,
            )
        return 200


@pytest.fixture()
def rotation_endpoint(server: LiveServer) -> Iterator[tuple[str, _Rotation]]:
    name = _name("hook")
    out = subprocess.run(
        [
            STRONGROOM,
            "rotators",
            "add",
            name,
            "--type",
            "http",
            "--url",
            "http://127.0.0.1:1/x",
            "--data-dir",
            str(server.data_dir),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    key = bytes.fromhex(json.loads(out.stdout)[0]["HmacKey"])
    target = _Rotation(server.client("secretsmanager"), key)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = target.step(self.headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    # Re-register with the real URL and the same key.
    subprocess.run(
        [
            STRONGROOM,
            "rotators",
            "add",
            name,
            "--type",
            "http",
            "--url",
            f"http://127.0.0.1:{http.server_address[1]}/rotate",
            "--hmac-key",
            key.hex(),
            "--data-dir",
            str(server.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    try:
        yield json.loads(out.stdout)[0]["Arn"], target
    finally:
        http.shutdown()
        http.server_close()


def test_rotation_through_an_http_rotator(
    sm: Any, rotation_endpoint: tuple[str, _Rotation]
) -> None:
    arn, target = rotation_endpoint
    name = _name("it/rot")
    first = sm.create_secret(Name=name, SecretString=json.dumps({"password": "initial"}))
    out = sm.rotate_secret(
        SecretId=name, RotationLambdaARN=arn, RotationRules={"ScheduleExpression": "rate(10 days)"}
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        current = sm.get_secret_value(SecretId=name)
        if current["VersionId"] == out["VersionId"]:
            break
        time.sleep(0.2)
    assert current["VersionId"] == out["VersionId"], target.steps
    assert json.loads(current["SecretString"])["password"] != "initial"
    assert target.steps == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    previous = sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")
    assert previous["VersionId"] == first["VersionId"]
    described = sm.describe_secret(SecretId=name)
    assert described["RotationEnabled"] is True
    assert described["RotationRules"]["ScheduleExpression"] == "rate(10 days)"
    assert "LastRotatedDate" in described and "NextRotationDate" in described
    sm.cancel_rotate_secret(SecretId=name)
    assert sm.describe_secret(SecretId=name)["RotationEnabled"] is False


def test_secret_cache_over_boto3(sm: Any) -> None:
    name = _name("it/cache")
    sm.create_secret(Name=name, SecretString="cached-1")
    cache = SecretCache(SecretCacheConfig(secret_refresh_interval=300), sm)
    assert cache.get_secret_string(name) == "cached-1"
    sm.put_secret_value(SecretId=name, SecretString="cached-2")
    assert cache.get_secret_string(name) == "cached-1"  # within the interval
    assert cache.get_secret_string(name, "AWSPREVIOUS") == "cached-1"
    cache.refresh_secret_now(name)
    assert cache.get_secret_string(name) == "cached-2"
