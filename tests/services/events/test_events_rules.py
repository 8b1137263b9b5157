"""Rules and targets CRUD, with EventBridge's errors and the authorization asked."""

from __future__ import annotations

import json

import pytest
from tests.services.events.events_support import ACCOUNT, REGION, SECRET_TAG, EventsEnv

from strongroom.errors import ServiceError

LOG_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/strongroom/events"


def code_of(excinfo: pytest.ExceptionInfo[ServiceError]) -> str:
    return excinfo.value.code


def test_put_describe_list_delete_rule(env: EventsEnv) -> None:
    arn = env.rule("r1", Description="first")
    assert arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/r1"
    assert env.authorizer.last("events:PutRule").resource == arn
    described = env.ev("DescribeRule", Name="r1")
    assert described["State"] == "ENABLED"
    assert described["Description"] == "first"
    assert described["EventBusName"] == "default"
    assert described["CreatedBy"] == ACCOUNT
    assert json.loads(described["EventPattern"])["source"] == ["aws.ssm"]
    # PutRule replaces the settings: Description omitted is gone.
    env.rule("r1", State="DISABLED")
    described = env.ev("DescribeRule", Name="r1")
    assert described["State"] == "DISABLED" and "Description" not in described
    assert [r["Name"] for r in env.ev("ListRules")["Rules"]] == ["r1"]
    env.ev("DeleteRule", Name="r1")
    with pytest.raises(ServiceError) as err:
        env.ev("DescribeRule", Name="r1")
    assert code_of(err) == "ResourceNotFoundException"
    assert "Rule r1 does not exist" in str(err.value)
    env.ev("DeleteRule", Name="r1")  # deleting again succeeds


def test_enable_disable(env: EventsEnv) -> None:
    env.rule("r")
    env.ev("DisableRule", Name="r")
    assert env.ev("DescribeRule", Name="r")["State"] == "DISABLED"
    env.ev("EnableRule", Name="r")
    assert env.ev("DescribeRule", Name="r")["State"] == "ENABLED"
    with pytest.raises(ServiceError) as err:
        env.ev("EnableRule", Name="missing")
    assert code_of(err) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("params", "code", "text"),
    [
        ({"EventPattern": '{"source": "aws.ssm"}'}, "InvalidEventPatternException", "array"),
        ({"EventPattern": "not json"}, "InvalidEventPatternException", "not valid JSON"),
        ({}, "ValidationException", "EventPattern or ScheduleExpression"),
        ({"ScheduleExpression": "rate(5 minutes)"}, "ValidationException", "not supported"),
        (
            {"EventPattern": '{"source":["x"]}', "EventBusName": "custom"},
            "ResourceNotFoundException",
            "Event bus custom does not exist",
        ),
        (
            {
                "EventPattern": '{"source":["x"]}',
                "Tags": [{"Key": "strongroom:signing-secret-id", "Value": " "}],
            },
            "ValidationException",
            "must name a Secrets Manager secret",
        ),
    ],
)
def test_put_rule_errors(env: EventsEnv, params: dict[str, object], code: str, text: str) -> None:
    with pytest.raises(ServiceError) as err:
        env.ev("PutRule", Name="bad", **params)
    assert code_of(err) == code
    assert text in str(err.value)


def test_list_rules_prefix_and_pagination(env: EventsEnv) -> None:
    for name in ["app-a", "app-b", "app-c", "other"]:
        env.rule(name)
    page = env.ev("ListRules", NamePrefix="app-", Limit=2)
    assert [r["Name"] for r in page["Rules"]] == ["app-a", "app-b"]
    rest = env.ev("ListRules", NamePrefix="app-", Limit=2, NextToken=page["NextToken"])
    assert [r["Name"] for r in rest["Rules"]] == ["app-c"]
    assert "NextToken" not in rest
    assert len(env.ev("ListRules")["Rules"]) == 4


def test_targets_crud_and_limits(env: EventsEnv) -> None:
    env.rule("r")
    env.ev("PutTargets", Rule="r", Targets=[{"Id": "log", "Arn": LOG_ARN}])
    assert env.authorizer.last("events:PutTargets").resource.endswith(":rule/r")
    listed = env.ev("ListTargetsByRule", Rule="r")["Targets"]
    assert listed == [{"Id": "log", "Arn": LOG_ARN}]
    # Same Id replaces.
    env.ev("PutTargets", Rule="r", Targets=[{"Id": "log", "Arn": LOG_ARN, "Input": "{}"}])
    assert env.ev("ListTargetsByRule", Rule="r")["Targets"][0]["Input"] == "{}"
    more = [{"Id": f"t{i}", "Arn": LOG_ARN} for i in range(5)]
    with pytest.raises(ServiceError) as err:
        env.ev("PutTargets", Rule="r", Targets=more)
    assert code_of(err) == "LimitExceededException"
    env.ev("PutTargets", Rule="r", Targets=more[:4])
    page = env.ev("ListTargetsByRule", Rule="r", Limit=3)
    assert len(page["Targets"]) == 3
    assert len(env.ev("ListTargetsByRule", Rule="r", NextToken=page["NextToken"])["Targets"]) == 2
    with pytest.raises(ServiceError) as err:
        env.ev("DeleteRule", Name="r")
    assert code_of(err) == "ValidationException" and "has targets" in str(err.value)
    removed = env.ev("RemoveTargets", Rule="r", Ids=["log", "t0", "t1", "t2", "t3", "nope"])
    assert removed["FailedEntryCount"] == 1
    assert removed["FailedEntries"][0]["TargetId"] == "nope"
    assert env.ev("ListTargetsByRule", Rule="r")["Targets"] == []
    env.ev("DeleteRule", Name="r")


@pytest.mark.parametrize(
    ("target", "text"),
    [
        ({"Id": "x", "Arn": "arn:aws:sqs:us-east-1:111122223333:queue"}, "strongroom:http"),
        ({"Id": "x", "Arn": "strongroom:http:ftp://host/"}, "strongroom:http"),
        ({"Id": "x", "Arn": "strongroom:http:http://127.0.0.1:1/"}, "signing-secret"),
        ({"Id": "x", "Arn": LOG_ARN, "Input": "{}", "InputPath": "$"}, "Only one of"),
        ({"Id": "x", "Arn": LOG_ARN, "InputPath": "detail"}, "InputPath"),
    ],
)
def test_put_targets_validation(env: EventsEnv, target: dict[str, str], text: str) -> None:
    env.rule("r")
    with pytest.raises(ServiceError) as err:
        env.ev("PutTargets", Rule="r", Targets=[target])
    assert code_of(err) == "ValidationException"
    assert text in str(err.value)


def test_http_target_allowed_once_the_rule_names_a_signing_secret(env: EventsEnv) -> None:
    env.rule("r", Tags=SECRET_TAG)
    target = {"Id": "h", "Arn": "strongroom:http:http://127.0.0.1:9/hook"}
    env.ev("PutTargets", Rule="r", Targets=[target])
    # Updating the rule without the tag keeps the reference (targets still deliverable).
    env.rule("r")
    env.ev("PutTargets", Rule="r", Targets=[target])


def test_target_operations_on_missing_rule(env: EventsEnv) -> None:
    for op, params in [
        ("PutTargets", {"Rule": "none", "Targets": [{"Id": "l", "Arn": LOG_ARN}]}),
        ("RemoveTargets", {"Rule": "none", "Ids": ["l"]}),
        ("ListTargetsByRule", {"Rule": "none"}),
    ]:
        with pytest.raises(ServiceError) as err:
            env.ev(op, **params)
        assert code_of(err) == "ResourceNotFoundException", op


def test_access_denied_is_raised_before_anything_changes(env: EventsEnv) -> None:
    env.authorizer.denied_actions.add("events:PutRule")
    with pytest.raises(ServiceError) as err:
        env.rule("r")
    assert code_of(err) == "AccessDenied"
    env.authorizer.denied_actions.clear()
    assert env.ev("ListRules")["Rules"] == []


def test_test_event_pattern(env: EventsEnv) -> None:
    event = {
        "id": "1",
        "account": ACCOUNT,
        "source": "aws.ssm",
        "time": "2024-05-01T12:00:00Z",
        "region": REGION,
        "detail-type": "Parameter Store Change",
        "resources": [],
        "detail": {"name": "/a"},
    }
    result = env.ev(
        "TestEventPattern",
        EventPattern='{"detail":{"name":[{"prefix":"/a"}]}}',
        Event=json.dumps(event),
    )
    assert result == {"Result": True}
    result = env.ev("TestEventPattern", EventPattern='{"source":["x"]}', Event=json.dumps(event))
    assert result == {"Result": False}
    with pytest.raises(ServiceError) as err:
        env.ev("TestEventPattern", EventPattern='{"source":[]}', Event=json.dumps(event))
    assert code_of(err) == "InvalidEventPatternException"
    del event["id"]
    with pytest.raises(ServiceError) as err:
        env.ev("TestEventPattern", EventPattern='{"source":["x"]}', Event=json.dumps(event))
    assert code_of(err) == "ValidationException"


def test_deeply_nested_input_is_a_client_error(env: EventsEnv) -> None:
    deep = "[" * 5000 + "]" * 5000
    result = env.ev("PutEvents", Entries=[{"Source": "my.app", "DetailType": "t", "Detail": deep}])
    assert result["Entries"][0]["ErrorCode"] == "MalformedDetail"
    with pytest.raises(ServiceError) as err:
        env.ev("TestEventPattern", EventPattern='{"source":["x"]}', Event=deep)
    assert code_of(err) == "ValidationException"
    with pytest.raises(ServiceError) as err:
        env.ev("TestEventPattern", EventPattern=deep, Event="{}")
    assert code_of(err) == "InvalidEventPatternException"
