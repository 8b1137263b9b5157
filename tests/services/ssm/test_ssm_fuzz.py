"""Garbage input to every Parameter Store operation, through the real gateway in
dev mode (no signature checks, so it reaches the operations): always an
AWS-shaped answer below 500, never an internal failure."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom.config import Settings
from strongroom.gateway.asgi import Gateway

OPERATIONS = [
    "PutParameter", "GetParameter", "GetParameters", "GetParametersByPath",
    "DescribeParameters", "DeleteParameter", "DeleteParameters", "GetParameterHistory",
    "LabelParameterVersion", "UnlabelParameterVersion", "AddTagsToResource",
    "RemoveTagsFromResource", "ListTagsForResource", "GetServiceSetting",
    "UpdateServiceSetting", "ResetServiceSetting", "PutResourcePolicy",
    "GetResourcePolicies", "DeleteResourcePolicy",
]  # fmt: skip
NAMES = ["/fz/a", "/fz/a:1", "/fz/a:lbl", "fz", "/fz", "/", "bad name", "/aws/x", "a/b",
         "arn:aws:ssm:us-east-1:123456789012:parameter/fz/a",
         "arn:aws:ssm:us-east-1:000000000000:parameter/fz/a:2"]  # fmt: skip
TEXT = st.sampled_from(NAMES) | st.text(max_size=30)
FILTER = st.fixed_dictionaries(
    {"Key": st.sampled_from(["Name", "Type", "Path", "Label", "tag:x", "KeyId", "Tier", "Zz"])},
    optional={
        "Option": st.sampled_from(["Equals", "BeginsWith", "Contains", "Recursive", "Nope"]),
        "Values": st.lists(TEXT, min_size=1, max_size=3),
    },
)
VALUES: dict[str, Any] = {
    "Name": TEXT,
    "Path": TEXT,
    "Value": st.text(max_size=50) | st.sampled_from(["ami-0123abcd", "x" * 5000]),
    "Type": st.sampled_from(["String", "StringList", "SecureString", "Bogus"]),
    "Tier": st.sampled_from(["Standard", "Advanced", "Intelligent-Tiering"]),
    "DataType": st.sampled_from(["text", "aws:ec2:image", "TEXT"]),
    "AllowedPattern": st.sampled_from(["^\\d+$", "([", ".*"]),
    "Overwrite": st.booleans(),
    "Recursive": st.booleans(),
    "WithDecryption": st.booleans(),
    "Shared": st.booleans(),
    "KeyId": st.sampled_from(["alias/aws/ssm", "alias/none", "bad"]),
    "Policies": st.sampled_from(["[]", "nope", '[{"Type":"Expiration"}]', "{}"]) | st.text(
        max_size=20
    ),
    "Names": st.lists(TEXT, min_size=1, max_size=4),
    "Labels": st.lists(st.text(max_size=12) | st.just("prod"), min_size=1, max_size=3),
    "ParameterVersion": st.integers(min_value=-2, max_value=200),
    "MaxResults": st.integers(min_value=-1, max_value=60),
    "NextToken": st.text(max_size=20),
    "ParameterFilters": st.lists(FILTER, max_size=3),
    "Filters": st.lists(FILTER, max_size=2),
    "ResourceType": st.sampled_from(["Parameter", "Document"]),
    "ResourceId": TEXT,
    "Tags": st.lists(
        st.fixed_dictionaries({"Key": st.text(min_size=1, max_size=8), "Value": st.text(max_size=8)}),
        max_size=3,
    ),
    "TagKeys": st.lists(st.text(max_size=8), max_size=3),
    "SettingId": st.sampled_from(
        ["/ssm/parameter-store/default-parameter-tier", "/ssm/parameter-store/high-throughput-enabled",
         "/ssm/x"]
    ),
    "SettingValue": st.sampled_from(["true", "Advanced", "x"]),
    "ResourceArn": TEXT,
    "Policy": st.sampled_from(["{}", "not json", '{"Statement":[]}']) | st.text(max_size=20),
    "PolicyId": st.text(max_size=10),
    "PolicyHash": st.text(max_size=10),
}  # fmt: skip


@pytest.fixture(scope="module")
def dev_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    app = Gateway(Settings(data_dir=Path(tmp_path_factory.mktemp("ssm-fuzz")), dev=True))
    _ = app.platform
    yield app
    app.platform.close()


def _call(app: Gateway, operation: str, body: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    headers = {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": f"AmazonSSM.{operation}",
        "x-amz-date": "20240101T000000Z",
        "host": "localhost",
        "authorization": (
            "AWS4-HMAC-SHA256 Credential=000000000000/20240101/us-east-1/ssm/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
        ),
    }
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5555),
        "scheme": "http",
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), payload


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    operation=st.sampled_from(OPERATIONS),
    params=st.dictionaries(st.sampled_from(sorted(VALUES)), st.just(None), max_size=6).flatmap(
        lambda keys: st.fixed_dictionaries({k: VALUES[k] for k in keys})
    ),
)
def test_parameter_store_answers_garbage_below_500(
    dev_gateway: Gateway, operation: str, params: dict[str, Any]
) -> None:
    status, payload = _call(dev_gateway, operation, json.dumps(params).encode())
    assert status < 500, payload
    if status >= 400:
        assert "__type" in json.loads(payload)
