"""CloudTrail operations: LookupEvents validation and paging, the default trail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.fake_platform import ACCOUNT, OTHER_ACCOUNT, ServiceEnv

from strongroom.audit.log import AuditRow, RowKind
from strongroom.audit.sealing import PlainSealer
from strongroom.audit.sqlite_log import SqliteAuditLog
from strongroom.audit.trail import AuditTrail, to_us
from strongroom.errors import ServiceError
from strongroom.services.cloudtrail.service import CloudTrailService
from strongroom.storage.sqlite import SqliteStore

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ServiceEnv]:
    path = str(tmp_path / "a.db")
    SqliteStore(path).close()
    env = ServiceEnv()
    env.platform.audit = AuditTrail(SqliteAuditLog(path), PlainSealer(), lambda a: True)
    env.add_service("cloudtrail", CloudTrailService(env.platform))
    yield env
    env.platform.audit.close()


def record(
    env: ServiceEnv,
    name: str,
    at: datetime,
    *,
    account: str = ACCOUNT,
    user: str = "admin",
    resources: list[dict[str, str]] | None = None,
) -> str:
    assert env.platform.audit is not None
    event_id = f"{name}-{at.timestamp():.0f}-{account}"
    body: dict[str, Any] = {
        "eventID": event_id,
        "eventName": name,
        "eventSource": "iam.amazonaws.com",
        "readOnly": name.startswith("Get"),
        "userIdentity": {"type": "IAMUser", "userName": user, "accessKeyId": "AKIAX"},
        "requestParameters": {"userName": "bob"} if name == "CreateUser" else None,
    }
    if resources:
        body["resources"] = resources
    attrs = [("n", name), ("s", "iam.amazonaws.com"), ("u", user), ("k", "AKIAX")]
    if name == "CreateUser":
        attrs += [("t", "AWS::IAM::User"), ("m", "bob")]
    row = AuditRow(
        RowKind.EVENT,
        event_id,
        account,
        "us-east-1",
        to_us(at),
        name.startswith("Get"),
        tuple(attrs),
        json.dumps(body).encode(),
    )
    env.platform.audit.log.append([row], to_us(at))
    return event_id


def lookup(env: ServiceEnv, **params: Any) -> dict[str, Any]:
    return env.call("cloudtrail", "LookupEvents", params)


def test_lookup_newest_first_with_its_fields(env: ServiceEnv) -> None:
    first = record(env, "CreateUser", T0)
    second = record(env, "GetUser", T0 + timedelta(seconds=5))
    record(env, "CreateUser", T0, account=OTHER_ACCOUNT)  # not visible to this account
    out = lookup(env)
    assert [e["EventId"] for e in out["Events"]] == [second, first]
    created = out["Events"][1]
    assert created["EventName"] == "CreateUser" and created["ReadOnly"] == "false"
    assert created["EventSource"] == "iam.amazonaws.com" and created["Username"] == "admin"
    assert created["AccessKeyId"] == "AKIAX" and created["EventTime"] == T0
    assert created["Resources"] == [{"ResourceType": "AWS::IAM::User", "ResourceName": "bob"}]
    assert json.loads(created["CloudTrailEvent"])["eventID"] == first
    assert "NextToken" not in out
    assert env.authorizer.last("cloudtrail:LookupEvents").resource == "*"


def test_lookup_attributes_and_time_range(env: ServiceEnv) -> None:
    a = record(env, "CreateUser", T0)
    b = record(env, "GetUser", T0 + timedelta(minutes=1), user="carol")
    attr = lambda k, v: {"LookupAttributes": [{"AttributeKey": k, "AttributeValue": v}]}  # noqa: E731
    assert [e["EventId"] for e in lookup(env, **attr("EventName", "GetUser"))["Events"]] == [b]
    assert [e["EventId"] for e in lookup(env, **attr("Username", "carol"))["Events"]] == [b]
    assert [e["EventId"] for e in lookup(env, **attr("ReadOnly", "false"))["Events"]] == [a]
    assert [e["EventId"] for e in lookup(env, **attr("ResourceName", "bob"))["Events"]] == [a]
    assert [e["EventId"] for e in lookup(env, **attr("EventId", a))["Events"]] == [a]
    window = lookup(env, StartTime=T0 + timedelta(seconds=30), EndTime=T0 + timedelta(minutes=1))
    assert [e["EventId"] for e in window["Events"]] == [b]


def test_paging_with_next_token(env: ServiceEnv) -> None:
    ids = [record(env, "GetUser", T0 + timedelta(seconds=i)) for i in range(7)]
    seen: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"MaxResults": 3}
        if token:
            params["NextToken"] = token
        page = lookup(env, **params)
        seen += [e["EventId"] for e in page["Events"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == list(reversed(ids))
    with pytest.raises(ServiceError) as err:  # a token is bound to its query
        lookup(
            env,
            MaxResults=3,
            NextToken=lookup(env, MaxResults=3)["NextToken"],
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetUser"}],
        )
    assert err.value.code == "InvalidNextTokenException"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"MaxResults": 51}, "InvalidMaxResultsException"),
        ({"MaxResults": 0}, "InvalidMaxResultsException"),
        ({"StartTime": T0, "EndTime": T0 - timedelta(seconds=1)}, "InvalidTimeRangeException"),
        ({"NextToken": "not-a-token"}, "InvalidNextTokenException"),
        (
            {
                "LookupAttributes": [
                    {"AttributeKey": "EventName", "AttributeValue": "A"},
                    {"AttributeKey": "Username", "AttributeValue": "B"},
                ]
            },
            "InvalidLookupAttributesException",
        ),
        (
            {"LookupAttributes": [{"AttributeKey": "Nope", "AttributeValue": "A"}]},
            "InvalidLookupAttributesException",
        ),
    ],
)
def test_lookup_validation(env: ServiceEnv, params: dict[str, Any], code: str) -> None:
    with pytest.raises(ServiceError) as err:
        lookup(env, **params)
    assert err.value.code == code


def test_lookup_is_authorized(env: ServiceEnv) -> None:
    env.authorizer.denied_actions.add("cloudtrail:LookupEvents")
    with pytest.raises(ServiceError) as err:
        lookup(env)
    assert err.value.code == "AccessDenied"


def test_default_trail(env: ServiceEnv) -> None:
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/default"
    [trail] = env.call("cloudtrail", "DescribeTrails", {})["trailList"]
    assert trail["TrailARN"] == arn and trail["LogFileValidationEnabled"] is True
    assert env.call("cloudtrail", "GetTrail", {"Name": "default"})["Trail"]["Name"] == "default"
    assert env.call("cloudtrail", "GetTrail", {"Name": arn})["Trail"]["TrailARN"] == arn
    assert env.call("cloudtrail", "GetTrailStatus", {"Name": "default"}) == {"IsLogging": True}
    assert env.call("cloudtrail", "DescribeTrails", {"trailNameList": ["other"]}) == {
        "trailList": []
    }
    assert env.call("cloudtrail", "ListTrails", {})["Trails"][0]["TrailARN"] == arn
    for name, code in (
        ("other", "TrailNotFoundException"),
        (f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/other", "TrailNotFoundException"),
        ("arn:aws:s3:::bucket", "CloudTrailARNInvalidException"),
    ):
        with pytest.raises(ServiceError) as err:
            env.call("cloudtrail", "GetTrail", {"Name": name})
        assert err.value.code == code


def test_list_public_keys(env: ServiceEnv) -> None:
    from strongroom.audit.digest_keys import DigestKeys

    assert env.call("cloudtrail", "ListPublicKeys", {}) == {"PublicKeyList": []}
    fingerprint = DigestKeys(env.platform.store).fingerprint(ACCOUNT, T0)
    [key] = env.call("cloudtrail", "ListPublicKeys", {})["PublicKeyList"]
    assert key["Fingerprint"] == fingerprint and key["Value"][:1] == b"0"  # DER SEQUENCE
