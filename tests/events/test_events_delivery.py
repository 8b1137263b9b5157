"""Routing to targets and HTTP delivery: signature, retries with backoff, dead letters."""

from __future__ import annotations

import json
import socket

import pytest
from tests.events.events_http import endpoint
from tests.services.events.events_support import ACCOUNT, REGION, SECRET, SECRET_TAG, EventsEnv

from strongroom.events.bus import event_bus, read_events
from strongroom.events.delivery import EVENT_ID_HEADER, RULE_HEADER
from strongroom.events.targets import pending_deliveries, read_dead_letters, read_log
from strongroom.rotators.http import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

LOG_GROUP = "/strongroom/ssm"
LOG_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}:*"


@pytest.fixture()
def env() -> EventsEnv:
    return EventsEnv()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def publish_ssm_change(env: EventsEnv, name: str = "/app/x") -> str:
    return event_bus(env.platform).publish(
        ACCOUNT,
        REGION,
        "aws.ssm",
        "Parameter Store Change",
        {"name": name, "type": "String", "operation": "Create"},
        [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}"],
    )


def http_rule(env: EventsEnv, url: str, retries: int | None = None) -> None:
    env.rule("to-http", Tags=SECRET_TAG)
    target: dict[str, object] = {
        "Id": "hook",
        "Arn": f"strongroom:http:{url}",
        "HttpParameters": {"HeaderParameters": {"X-App": "demo"}},
    }
    if retries is not None:
        target["RetryPolicy"] = {"MaximumRetryAttempts": retries}
    env.ev("PutTargets", Rule="to-http", Targets=[target])


def test_internal_events_reach_a_log_target_and_are_still_recorded(env: EventsEnv) -> None:
    env.rule("to-log")
    env.ev("PutTargets", Rule="to-log", Targets=[{"Id": "log", "Arn": LOG_ARN}])
    event_id = publish_ssm_change(env)
    assert [e["id"] for e in read_events(env.store, ACCOUNT, REGION)] == [event_id]
    logged = read_log(env.store, ACCOUNT, REGION, LOG_GROUP)
    assert len(logged) == 1
    assert logged[0]["event"]["id"] == event_id
    assert logged[0]["rule"].endswith(":rule/to-log")
    # A disabled rule routes nothing; a non-matching event is not logged.
    env.ev("DisableRule", Name="to-log")
    publish_ssm_change(env)
    env.ev("EnableRule", Name="to-log")
    event_bus(env.platform).publish(ACCOUNT, REGION, "aws.kms", "KMS Key Deletion", {}, [])
    assert len(read_log(env.store, ACCOUNT, REGION, LOG_GROUP)) == 1


def test_put_events_entries_and_routing(env: EventsEnv) -> None:
    env.rule("mine", pattern='{"source":["my.app"],"detail":{"level":[{"numeric":[">",3]}]}}')
    env.ev(
        "PutTargets", Rule="mine", Targets=[{"Id": "log", "Arn": LOG_ARN, "InputPath": "$.detail"}]
    )
    result = env.ev(
        "PutEvents",
        Entries=[
            {"Source": "my.app", "DetailType": "t", "Detail": '{"level": 5}'},
            {"Source": "my.app", "DetailType": "t", "Detail": '{"level": 1}'},
            {"Source": "my.app", "DetailType": "t", "Detail": "[1]"},
            {"Source": "aws.ssm", "DetailType": "t", "Detail": "{}"},
            {"Source": "my.app", "Detail": "{}"},
            {"Source": "my.app", "DetailType": "t", "Detail": "{}", "EventBusName": "other"},
        ],
    )
    assert result["FailedEntryCount"] == 4
    codes = [e.get("ErrorCode") for e in result["Entries"]]
    assert codes == [
        None,
        None,
        "MalformedDetail",
        "NotAuthorizedForSourceException",
        "InvalidArgument",
        "InvalidArgument",
    ]
    assert env.authorizer.last("events:PutEvents").resource == (
        f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    )
    logged = read_log(env.store, ACCOUNT, REGION, LOG_GROUP)
    assert [r["event"]["id"] for r in logged] == [result["Entries"][0]["EventId"]]
    assert len(read_events(env.store, ACCOUNT, REGION)) == 2


def test_http_delivery_is_signed_and_not_sent_on_the_request_path(env: EventsEnv) -> None:
    with endpoint() as hook:
        http_rule(env, hook.url)
        event_id = publish_ssm_change(env)
        assert hook.received == []  # only enqueued
        assert len(pending_deliveries(env.store)) == 1
        assert env.events.worker.run(env.clock()) == 1
        assert pending_deliveries(env.store) == []
        (request,) = hook.received
        body = request.body
        assert json.loads(body)["id"] == event_id
        assert json.loads(body)["detail-type"] == "Parameter Store Change"
        assert request.headers[EVENT_ID_HEADER] == event_id
        assert request.headers[RULE_HEADER].endswith(":rule/to-http")
        assert request.headers["X-App"] == "demo"
        assert verify_signature(
            SECRET.encode(),
            request.headers[TIMESTAMP_HEADER],
            body,
            request.headers[SIGNATURE_HEADER],
        )
        assert not verify_signature(
            b"x" * 40, request.headers[TIMESTAMP_HEADER], body, request.headers[SIGNATURE_HEADER]
        )


def test_retries_with_exponential_backoff_then_delivers(env: EventsEnv) -> None:
    with endpoint(script=[503, 500]) as hook:
        http_rule(env, hook.url)
        publish_ssm_change(env)
        worker = env.events.worker
        assert worker.run(env.clock()) == 1  # 503
        assert worker.run(env.clock()) == 0  # not due before the backoff (1 s)
        env.clock.advance(1.0)
        assert worker.run(env.clock()) == 1  # 500
        env.clock.advance(1.0)
        assert worker.run(env.clock()) == 0  # second backoff is 2 s
        env.clock.advance(1.0)
        assert worker.run(env.clock()) == 1  # delivered
        assert len(hook.received) == 3
        assert len({r.headers[EVENT_ID_HEADER] for r in hook.received}) == 1
        assert pending_deliveries(env.store) == []
        assert read_dead_letters(env.store, ACCOUNT, REGION) == []


def test_dead_letter_after_the_last_retry(env: EventsEnv) -> None:
    with endpoint(script=[500, 500, 500, 500]) as hook:
        http_rule(env, hook.url, retries=2)
        event_id = publish_ssm_change(env)
        for _ in range(6):
            env.events.worker.run(env.clock())
            env.clock.advance(10)
        assert len(hook.received) == 3  # first attempt + 2 retries
        assert pending_deliveries(env.store) == []
        (dead,) = read_dead_letters(env.store, ACCOUNT, REGION)
        assert dead["event_id"] == event_id
        assert dead["attempt"] == 3
        assert dead["error"] == "HTTP 500"
        assert dead["rule_arn"].endswith(":rule/to-http")
        assert SECRET not in json.dumps(dead)


def test_non_retryable_status_dead_letters_at_once(env: EventsEnv) -> None:
    with endpoint(script=[400]) as hook:
        http_rule(env, hook.url)
        publish_ssm_change(env)
        env.events.worker.run(env.clock())
        assert len(hook.received) == 1
        assert read_dead_letters(env.store, ACCOUNT, REGION)[0]["error"] == "HTTP 400"


def test_unreachable_endpoint_is_retried(env: EventsEnv) -> None:
    http_rule(env, f"http://127.0.0.1:{closed_port()}/hook", retries=1)
    publish_ssm_change(env)
    env.events.worker.run(env.clock())
    assert len(pending_deliveries(env.store)) == 1
    env.clock.advance(5)
    env.events.worker.run(env.clock())
    assert pending_deliveries(env.store) == []
    assert read_dead_letters(env.store, ACCOUNT, REGION)[0]["attempt"] == 2


def test_deliveries_of_a_deleted_rule_are_dropped(env: EventsEnv) -> None:
    with endpoint() as hook:
        http_rule(env, hook.url)
        publish_ssm_change(env)
        env.ev("RemoveTargets", Rule="to-http", Ids=["hook"])
        env.ev("DeleteRule", Name="to-http")
        env.events.worker.run(env.clock())
        assert hook.received == []
        assert pending_deliveries(env.store) == []


def test_nothing_unsigned_is_sent_while_the_signing_secret_is_unavailable(env: EventsEnv) -> None:
    with endpoint() as hook:
        http_rule(env, hook.url)
        publish_ssm_change(env)
        stored = env.secrets.pop("events/hook-key")
        env.events.worker.run(env.clock())
        assert hook.received == []
        assert len(pending_deliveries(env.store)) == 1  # kept for a retry
        env.secrets["events/hook-key"] = stored
        env.clock.advance(1)
        env.events.worker.run(env.clock())
        assert len(hook.received) == 1
