"""KMS calls that SSM and Secrets Manager make for the caller are events of their own.

CloudTrail records them in KMS's name (``eventSource: kms.amazonaws.com``)
with ``userIdentity.invokedBy`` and the calling service as source address
and user agent ("AWS KMS condition keys": kms:ViaService; "How Parameter
Store uses AWS KMS"; "How Secrets Manager uses AWS KMS"). In-process
through the pipeline first (every field, failures, secrecy of data keys),
then end to end against the live server through ``lookup_events``.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from tests.support.live_server import LiveServer

from strongroom.audit.log import LookupQuery
from strongroom.bootstrap import open_platform
from strongroom.config import Settings
from strongroom.gateway.pipeline import Pipeline
from strongroom.gateway.request import HttpRequest, HttpResponse
from strongroom.platform import Platform

ACCOUNT = "000000000000"
TARGETS = {"ssm": "AmazonSSM", "secretsmanager": "secretsmanager", "kms": "TrentService"}
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    p = open_platform(Settings(data_dir=tmp_path, audit_writer="thread"))
    yield p
    p.close()


def json_call(
    pipeline: Pipeline, creds: tuple[str, str], service: str, operation: str, **params: Any
) -> tuple[HttpResponse, dict[str, Any]]:
    body = json.dumps(params).encode()
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"{TARGETS[service]}.{operation}",
        "User-Agent": "nested-calls-test",
    }
    req = AWSRequest(method="POST", url="http://127.0.0.1:8700/", data=body, headers=headers)
    SigV4Auth(Credentials(*creds), service, "us-east-1").add_auth(req)
    signed = {k.lower(): v for k, v in req.headers.items()}
    signed["host"] = "127.0.0.1:8700"
    response = pipeline.handle(HttpRequest("POST", "/", "", signed, body, client_ip="203.0.113.7"))
    return response, json.loads(response.body or b"{}")


def recorded(platform: Platform) -> list[dict[str, Any]]:
    assert platform.audit is not None
    found = platform.audit.lookup(LookupQuery(None, None, limit=1000))
    return [e.record for e in reversed(found)]  # oldest first


def kms_events(records: list[dict[str, Any]], request_id: str) -> list[dict[str, Any]]:
    """The KMS events of the calls made for request ``request_id``: stored
    right after its own event, each with a request id of its own (as AWS
    records them: the caller's request id is not on them)."""
    [start] = [i for i, r in enumerate(records) if r["requestID"] == request_id]
    nested = []
    for r in records[start + 1 :]:
        if "invokedBy" not in r["userIdentity"]:
            break
        assert r["requestID"] != request_id and r["eventTime"] == records[start]["eventTime"]
        nested.append(r)
    return [r for r in nested if r["eventSource"] == "kms.amazonaws.com"]


def request_id(response: HttpResponse) -> str:
    return dict(response.headers)["x-amzn-requestid"]


def capture_data_keys(platform: Platform) -> list[bytes]:
    """Every plaintext KMS hands back to the calling service, to look for later."""
    kms = platform.services["kms"]
    real = kms.call_as_service  # type: ignore[attr-defined]
    seen: list[bytes] = []

    def spy(*args: Any, **kwargs: Any) -> dict[str, Any]:
        out: dict[str, Any] = real(*args, **kwargs)
        if isinstance(out.get("Plaintext"), bytes):
            seen.append(out["Plaintext"])
        return out

    kms.call_as_service = spy  # type: ignore[attr-defined]
    return seen


def assert_secret_free(
    records: list[dict[str, Any]], secrets: list[str], keys: list[bytes]
) -> None:
    text = json.dumps(records)
    for secret in secrets:
        assert secret not in text
    for key in keys:
        assert base64.b64encode(key).decode() not in text
        assert key.hex() not in text


def test_ssm_secure_string_records_kms_events(platform: Platform) -> None:
    creds = platform.identities.ensure_account(ACCOUNT, "default")
    assert creds is not None
    pipeline = Pipeline(platform)
    keys = capture_data_keys(platform)
    value, big = "ssm-secret-" + uuid.uuid4().hex, "big-" + uuid.uuid4().hex * 200

    put, _ = json_call(
        pipeline, creds, "ssm", "PutParameter", Name="/app/db", Value=value, Type="SecureString"
    )
    assert put.status == 200
    put_big, _ = json_call(
        pipeline,
        creds,
        "ssm",
        "PutParameter",
        Name="/app/big",
        Value=big,
        Type="SecureString",
        Tier="Advanced",
    )
    assert put_big.status == 200
    got, out = json_call(
        pipeline, creds, "ssm", "GetParameter", Name="/app/db", WithDecryption=True
    )
    assert out["Parameter"]["Value"] == value

    records = recorded(platform)
    [encrypt] = kms_events(records, request_id(put))
    [generate] = kms_events(records, request_id(put_big))
    [decrypt] = kms_events(records, request_id(got))
    assert [encrypt["eventName"], generate["eventName"], decrypt["eventName"]] == [
        "Encrypt",
        "GenerateDataKey",
        "Decrypt",
    ]
    arn = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/db"
    for event in (encrypt, generate, decrypt):
        assert event["userIdentity"]["invokedBy"] == "ssm.amazonaws.com"
        assert event["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin"
        assert event["sourceIPAddress"] == "ssm.amazonaws.com"
        assert event["userAgent"] == "ssm.amazonaws.com"
        assert event["eventType"] == "AwsApiCall" and event["readOnly"] is True
        assert event["recipientAccountId"] == ACCOUNT
        assert "errorCode" not in event
        [key] = event["resources"]
        assert key["type"] == "AWS::KMS::Key" and key["ARN"].startswith("arn:aws:kms:")
    # What key policies see as kms:EncryptionContext: recorded, the value is not.
    assert encrypt["requestParameters"]["encryptionContext"] == {"PARAMETER_ARN": arn}
    assert encrypt["requestParameters"]["keyId"] == "alias/aws/ssm"
    assert "plaintext" not in encrypt["requestParameters"]  # a blob: left out
    # Named even though the request left it out, as CloudTrail records it.
    assert encrypt["requestParameters"]["encryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert decrypt["requestParameters"]["encryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert "encryptionAlgorithm" not in generate["requestParameters"]
    # The SSM events themselves are unchanged: the caller's, from the caller's address.
    ssm = [r for r in records if r["requestID"] == request_id(put)]
    assert [r["eventSource"] for r in ssm] == ["ssm.amazonaws.com"]
    assert ssm[0]["sourceIPAddress"] == "203.0.113.7"
    assert "invokedBy" not in ssm[0]["userIdentity"]
    assert ssm[0]["requestParameters"]["value"] == HIDDEN
    assert len(keys) >= 2  # GenerateDataKey and Decrypt handed plaintexts back
    assert_secret_free(records, [value, big], keys)


def test_secrets_manager_records_kms_events(platform: Platform) -> None:
    creds = platform.identities.ensure_account(ACCOUNT, "default")
    assert creds is not None
    pipeline = Pipeline(platform)
    keys = capture_data_keys(platform)
    value = "sm-secret-" + uuid.uuid4().hex

    created, out = json_call(
        pipeline, creds, "secretsmanager", "CreateSecret", Name="db/main", SecretString=value
    )
    assert created.status == 200
    got, secret = json_call(pipeline, creds, "secretsmanager", "GetSecretValue", SecretId="db/main")
    assert secret["SecretString"] == value

    records = recorded(platform)
    [generate] = kms_events(records, request_id(created))
    [decrypt] = kms_events(records, request_id(got))
    assert generate["eventName"] == "GenerateDataKey" and decrypt["eventName"] == "Decrypt"
    for event in (generate, decrypt):
        assert event["userIdentity"]["invokedBy"] == "secretsmanager.amazonaws.com"
        assert event["sourceIPAddress"] == event["userAgent"] == "secretsmanager.amazonaws.com"
        assert event["requestParameters"]["encryptionContext"] == {
            "SecretARN": out["ARN"],
            "SecretVersionId": out["VersionId"],
        }
    assert generate["requestParameters"]["keySpec"] == "AES_256"
    assert generate["responseElements"] is None  # read-only: no response recorded
    assert len(keys) == 2
    assert_secret_free(records, [value], keys)


def test_a_refused_kms_call_is_recorded_with_its_error(platform: Platform) -> None:
    creds = platform.identities.ensure_account(ACCOUNT, "default")
    assert creds is not None
    pipeline = Pipeline(platform)
    # A customer key whose policy names only the administrator.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/admin"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    _, key = json_call(
        pipeline,
        creds,
        "kms",
        "CreateKey",
        Policy=json.dumps(policy),
        BypassPolicyLockoutSafetyCheck=True,
    )
    key_id = key["KeyMetadata"]["KeyId"]
    # A user allowed everything in IAM, whom the key policy does not name.
    mallory = user_allowed_everything(pipeline, creds, "mallory")

    put, out = json_call(
        pipeline,
        mallory,
        "ssm",
        "PutParameter",
        Name="/denied",
        Value="never-stored",
        Type="SecureString",
        KeyId=key_id,
    )
    assert put.status == 400 and out["__type"].endswith("AccessDeniedException")
    [denied] = kms_events(recorded(platform), request_id(put))
    assert denied["eventName"] == "Encrypt"
    assert denied["errorCode"] == "AccessDeniedException"
    assert denied["userIdentity"]["userName"] == "mallory"
    assert denied["userIdentity"]["invokedBy"] == "ssm.amazonaws.com"
    assert "never-stored" not in json.dumps(recorded(platform))


def user_allowed_everything(
    pipeline: Pipeline, admin: tuple[str, str], name: str
) -> tuple[str, str]:
    """An IAM user with an inline Allow-everything policy, made through IAM."""

    def iam(**form: str) -> str:
        body = urlencode({**form, "Version": "2010-05-08"}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        req = AWSRequest(method="POST", url="http://127.0.0.1:8700/", data=body, headers=headers)
        SigV4Auth(Credentials(*admin), "iam", "us-east-1").add_auth(req)
        signed = {k.lower(): v for k, v in req.headers.items()}
        signed["host"] = "127.0.0.1:8700"
        response = pipeline.handle(HttpRequest("POST", "/", "", signed, body))
        assert response.status == 200, response.body
        return response.body.decode()

    iam(Action="CreateUser", UserName=name)
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam(Action="PutUserPolicy", UserName=name, PolicyName="all", PolicyDocument=json.dumps(allow))
    body = iam(Action="CreateAccessKey", UserName=name)
    return (
        body.split("<AccessKeyId>")[1].split("<")[0],
        body.split("<SecretAccessKey>")[1].split("<")[0],
    )


# -- end to end --------------------------------------------------------------------


def lookup_kms(server: LiveServer, contexts: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The KMS events made for a caller, found through CloudTrail LookupEvents
    the way one finds them on AWS: by ``invokedBy`` and the encryption
    context the calling service uses (they have request ids of their own).

    Events are durable before the response; the lookup index is filled
    asynchronously, which lookups cover by reading the unindexed tail, so
    this normally succeeds at once: the poll only absorbs a slow machine."""
    cloudtrail = server.client("cloudtrail")
    deadline = time.monotonic() + 15
    while True:
        found: list[dict[str, Any]] = []
        pages = cloudtrail.get_paginator("lookup_events").paginate(
            LookupAttributes=[
                {"AttributeKey": "EventSource", "AttributeValue": "kms.amazonaws.com"}
            ],
            PaginationConfig={"MaxItems": 500, "PageSize": 50},
        )
        for page in pages:
            for event in page["Events"]:
                record = json.loads(event["CloudTrailEvent"])
                context = (record["requestParameters"] or {}).get("encryptionContext") or {}
                if "invokedBy" in record["userIdentity"] and any(
                    context.items() >= c.items() for c in contexts
                ):
                    found.append(record)
        if len(found) >= 4 or time.monotonic() > deadline:
            return sorted(found, key=lambda r: r["eventTime"])
        time.sleep(0.2)


def test_nested_events_through_lookup_events(server: LiveServer) -> None:
    ssm, sm = server.client("ssm"), server.client("secretsmanager")
    name = f"/nested/{uuid.uuid4().hex[:8]}"
    param_value, secret_value = "p-" + uuid.uuid4().hex, "s-" + uuid.uuid4().hex
    put = ssm.put_parameter(Name=name, Value=param_value, Type="SecureString")
    got = ssm.get_parameter(Name=name, WithDecryption=True)
    assert got["Parameter"]["Value"] == param_value
    created = sm.create_secret(Name=f"nested-{uuid.uuid4().hex[:8]}", SecretString=secret_value)
    read = sm.get_secret_value(SecretId=created["ARN"])
    assert read["SecretString"] == secret_value

    parameter = {"PARAMETER_ARN": got["Parameter"]["ARN"]}
    secret = {"SecretARN": created["ARN"]}
    records = lookup_kms(server, [parameter, secret])
    callers = {r["ResponseMetadata"]["RequestId"] for r in (put, got, created, read)}
    expected = [
        ("Encrypt", "ssm.amazonaws.com", parameter),
        ("Decrypt", "ssm.amazonaws.com", parameter),
        ("GenerateDataKey", "secretsmanager.amazonaws.com", secret),
        ("Decrypt", "secretsmanager.amazonaws.com", secret),
    ]
    for event_name, service, context in expected:
        [record] = [
            r
            for r in records
            if r["eventName"] == event_name
            and r["userIdentity"]["invokedBy"] == service
            and r["requestParameters"]["encryptionContext"].items() >= context.items()
        ]
        assert record["eventSource"] == "kms.amazonaws.com"
        assert record["userIdentity"]["type"] == "IAMUser"
        assert record["sourceIPAddress"] == record["userAgent"] == service
        assert record["requestID"] not in callers  # a request of its own
    text = json.dumps(records)
    assert param_value not in text and secret_value not in text
