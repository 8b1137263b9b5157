"""Whatever bytes arrive, the gateway answers with an AWS-shaped 4xx, never a 500.

Drives the ASGI application in-process (no sockets) with hypothesis-made
requests: random bodies, random X-Amz-Target values, random form fields,
random and half-valid Authorization headers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom.config import Settings
from strongroom.gateway.asgi import Gateway

TARGETS = [
    "TrentService.Encrypt",
    "TrentService.NoSuchOp",
    "AmazonSSM.GetParameter",
    "secretsmanager.GetSecretValue",
    "Nope.Nope",
    "",
]
AUTHS = [
    "",
    "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20240101/us-east-1/kms/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    "AWS4-HMAC-SHA256 Credential=garbage",
    "Basic dXNlcjpwYXNz",
]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    app = Gateway(Settings(data_dir=Path(tmp_path_factory.mktemp("fuzz"))))
    _ = app.platform
    yield app
    app.platform.close()


def call(
    app: Gateway, method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": b"",
        "headers": [
            (k.lower().encode(), v.encode("latin-1", "replace")) for k, v in headers.items()
        ],
        "client": ("127.0.0.1", 5555),
        "scheme": "http",
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), payload


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    target=st.sampled_from(TARGETS) | st.text(max_size=40),
    auth=st.sampled_from(AUTHS) | st.text(max_size=80),
    body=st.binary(max_size=300) | st.text(max_size=200).map(str.encode),
)
def test_json_requests_never_500(gateway: Gateway, target: str, auth: str, body: bytes) -> None:
    headers = {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": target,
        "x-amz-date": "20240101T000000Z",
        "authorization": auth,
    }
    status, payload = call(gateway, "POST", "/", headers, body)
    assert 400 <= status < 500, payload
    assert "__type" in json.loads(payload)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    form=st.dictionaries(
        st.sampled_from(
            [
                "Action",
                "Version",
                "UserName",
                "X-Amz-Algorithm",
                "X-Amz-Credential",
                "X-Amz-Signature",
                "Marker",
            ]
        ),
        st.text(max_size=30),
        max_size=6,
    ),
    auth=st.sampled_from(AUTHS),
    path=st.sampled_from(["/", "/x/../y", "/%ZZ", "/\udcff"]),
)
def test_query_requests_never_500(
    gateway: Gateway, form: dict[str, str], auth: str, path: str
) -> None:
    from urllib.parse import urlencode

    body = urlencode(form).encode()
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "authorization": auth,
        "x-amz-date": "20240101T000000Z",
    }
    status, payload = call(gateway, "POST", path, headers, body)
    assert 400 <= status < 500, payload
    assert b"<ErrorResponse" in payload or b"__type" in payload


@pytest.fixture(scope="module")
def dev_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Dev mode skips signature checks, so fuzzed input reaches the operations."""
    app = Gateway(Settings(data_dir=Path(tmp_path_factory.mktemp("fuzz-dev")), dev=True))
    _ = app.platform
    yield app
    app.platform.close()


IAM_ACTIONS = [
    "CreateUser",
    "GetUser",
    "PutUserPolicy",
    "CreateRole",
    "AttachUserPolicy",
    "CreatePolicy",
    "ListUsers",
    "TagUser",
    "CreateAccessKey",
    "SimulateCustomPolicy",
]
STS_ACTIONS = ["AssumeRole", "GetSessionToken", "GetAccessKeyInfo"]


def _dev_auth(service: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential=123456789012/20240101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
    )


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    service_action=st.sampled_from(
        [("iam", a) for a in IAM_ACTIONS] + [("sts", a) for a in STS_ACTIONS]
    ),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "UserName",
                "RoleName",
                "PolicyName",
                "PolicyDocument",
                "PolicyArn",
                "AssumeRolePolicyDocument",
                "RoleArn",
                "RoleSessionName",
                "DurationSeconds",
                "Tags.member.1.Key",
                "Tags.member.1.Value",
                "PolicyInputList.member.1",
                "ActionNames.member.1",
                "AccessKeyId",
                "Path",
                "MaxItems",
            ]
        ),
        st.text(max_size=40)
        | st.sampled_from(
            [
                '{"Version":"2012-10-17","Statement":[]}',
                "arn:aws:iam::aws:policy/x",
                "900",
                "-1",
                "/",
                "arn:aws:iam::123456789012:role/r",
            ]
        ),
        max_size=6,
    ),
)
def test_operations_answer_garbage_with_4xx(
    dev_gateway: Gateway, service_action: tuple[str, str], fields: dict[str, str]
) -> None:
    from urllib.parse import urlencode

    service, action = service_action
    version = "2010-05-08" if service == "iam" else "2011-06-15"
    body = urlencode({"Action": action, "Version": version, **fields}).encode()
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "authorization": _dev_auth(service),
        "x-amz-date": "20240101T000000Z",
        "host": "localhost",
    }
    status, payload = call(dev_gateway, "POST", "/", headers, body)
    assert status < 500, payload
