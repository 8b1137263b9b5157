"""EventBridge over the wire with boto3: an SSM change reaches a signed HTTP target."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError
from tests.events.events_http import endpoint
from tests.support.live_server import LiveServer

from strongroom.events.delivery import EVENT_ID_HEADER
from strongroom.rotators.http import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

SECRET = "integration-signing-secret-0123456789"


def test_parameter_store_change_is_delivered_to_a_signed_http_target(server: LiveServer) -> None:
    events = server.client("events")
    ssm = server.client("ssm")
    # The HMAC key lives in Secrets Manager; the rule only names it.
    secret_name = f"events-it/signing-{uuid.uuid4().hex[:8]}"
    server.client("secretsmanager").create_secret(Name=secret_name, SecretString=SECRET)
    prefix = f"/events-it/{uuid.uuid4().hex[:8]}/"
    pattern = {
        "source": ["aws.ssm"],
        "detail-type": ["Parameter Store Change"],
        "detail": {"name": [{"prefix": prefix}]},
    }
    rule = f"ssm-changes-{uuid.uuid4().hex[:8]}"
    with endpoint() as hook:
        arn = events.put_rule(
            Name=rule,
            EventPattern=json.dumps(pattern),
            Tags=[{"Key": "strongroom:signing-secret-id", "Value": secret_name}],
        )["RuleArn"]
        assert arn.endswith(f":rule/{rule}")
        events.put_targets(
            Rule=rule, Targets=[{"Id": "hook", "Arn": f"strongroom:http:{hook.url}"}]
        )
        assert events.describe_rule(Name=rule)["State"] == "ENABLED"
        ssm.put_parameter(Name=f"{prefix}db-host", Value="db.internal", Type="String")
        assert hook.arrived.wait(15), "the event was not delivered"
        (request,) = hook.received
        event = json.loads(request.body)
        assert event["source"] == "aws.ssm"
        assert event["detail-type"] == "Parameter Store Change"
        assert event["detail"]["name"] == f"{prefix}db-host"
        assert event["detail"]["operation"] == "Create"
        assert request.headers[EVENT_ID_HEADER] == event["id"]
        assert verify_signature(
            SECRET.encode(),
            request.headers[TIMESTAMP_HEADER],
            request.body,
            request.headers[SIGNATURE_HEADER],
        )
        events.remove_targets(Rule=rule, Ids=["hook"])
        events.delete_rule(Name=rule)


def test_events_api_errors_and_put_events(server: LiveServer) -> None:
    events = server.client("events")
    with pytest.raises(ClientError) as err:
        events.describe_rule(Name="no-such-rule")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        events.put_rule(Name="bad", EventPattern='{"source": "x"}')
    assert err.value.response["Error"]["Code"] == "InvalidEventPatternException"
    with pytest.raises(ClientError) as err:
        events.put_rule(Name="sched", ScheduleExpression="rate(1 minute)")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    result = events.put_events(
        Entries=[
            {"Source": "my.app", "DetailType": "Ping", "Detail": '{"n": 1}'},
            {"Source": "my.app", "DetailType": "Ping", "Detail": "not json"},
        ]
    )
    assert result["FailedEntryCount"] == 1
    assert "EventId" in result["Entries"][0]
    assert result["Entries"][1]["ErrorCode"] == "MalformedDetail"
    matched = events.test_event_pattern(
        EventPattern='{"source":[{"prefix":"my."}]}',
        Event=json.dumps(
            {
                "id": "1",
                "account": "000000000000",
                "source": "my.app",
                "time": "2024-01-01T00:00:00Z",
                "region": "us-east-1",
                "detail-type": "Ping",
                "resources": [],
                "detail": {},
            }
        ),
    )
    assert matched["Result"] is True
