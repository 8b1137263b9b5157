"""RotateSecret, the rotation job, the four-step contract, failures and retries,
schedules, CancelRotateSecret and the rotation events."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.services.secretsmanager.rotation_support import register
from tests.services.secretsmanager.sm_support import ACCOUNT, TOKEN_A, SmEnv


@pytest.fixture()
def toy(sm: SmEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.syspath_prepend(str(tmp_path))
    return register(sm.store, tmp_path, account=ACCOUNT)


def _run(sm: SmEnv) -> int:
    return sm.sm.rotate_due(sm.clock.now)


def test_rotate_needs_a_registered_rotator(sm: SmEnv) -> None:
    sm.secret("s", "v")
    err = sm.error("RotateSecret", SecretId="s")
    assert err.code == "InvalidRequestException"
    assert "No Lambda rotation function ARN" in err.message
    err = sm.error(
        "RotateSecret",
        SecretId="s",
        RotationLambdaARN=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:nope",
    )
    assert err.code == "AccessDeniedException"
    assert "strongroom rotators add" in err.message


def test_immediate_rotation_runs_four_steps(sm: SmEnv, toy: str) -> None:
    old = sm.secret("s", "pw")["VersionId"]
    out = sm.call(
        "RotateSecret",
        SecretId="s",
        RotationLambdaARN=toy,
        RotationRules={"AutomaticallyAfterDays": 7},
        ClientRequestToken=TOKEN_A,
    )
    assert out["VersionId"] == TOKEN_A
    # RotateSecret returns before the rotation: a pending version without a value yet.
    assert sm.stages("s") == {old: ["AWSCURRENT"], TOKEN_A: ["AWSPENDING"]}
    assert sm.error("GetSecretValue", SecretId="s", VersionStage="AWSPENDING").code == (
        "ResourceNotFoundException"
    )
    assert _run(sm) == 1
    assert sm.value("s")["SecretString"] == "pw+"
    assert sm.value("s")["VersionId"] == TOKEN_A
    assert sm.stages("s") == {old: ["AWSPREVIOUS"], TOKEN_A: ["AWSCURRENT"]}
    described = sm.call("DescribeSecret", SecretId="s")
    assert described["RotationEnabled"] is True
    assert described["RotationLambdaARN"] == toy
    assert described["RotationRules"] == {"AutomaticallyAfterDays": 7}
    assert described["LastRotatedDate"] == sm.clock.now
    assert described["NextRotationDate"].isoformat() == "2024-05-08T23:59:59+00:00"
    assert sm.event_names()[-2:] == ["RotationStarted", "RotationSucceeded"]
    event = sm.events()[-1]
    assert event["source"] == "aws.secretsmanager"
    assert event["detail-type"] == "AWS Service Event via CloudTrail"
    assert event["detail"]["additionalEventData"]["SecretId"] == described["ARN"]
    assert event["resources"] == [described["ARN"]]
    assert _run(sm) == 0  # nothing due until the next window


def test_scheduled_rotation_happens_in_its_window(sm: SmEnv, toy: str) -> None:
    sm.secret("s", "pw")
    out = sm.call(
        "RotateSecret",
        SecretId="s",
        RotationLambdaARN=toy,
        RotationRules={"ScheduleExpression": "rate(1 days)"},
        RotateImmediately=False,
    )
    assert "VersionId" not in out
    assert _run(sm) == 0
    assert sm.call("DescribeSecret", SecretId="s")["NextRotationDate"].isoformat() == (
        "2024-05-02T23:59:59+00:00"
    )
    sm.clock.advance(12 * 3600 + 1)  # 2024-05-02 00:00:01
    assert _run(sm) == 1
    assert sm.value("s")["SecretString"] == "pw+"
    sm.clock.advance(86400)
    assert _run(sm) == 1
    assert sm.value("s")["SecretString"] == "pw++"


def test_failed_step_keeps_current_and_retries_with_the_same_token(
    sm: SmEnv, toy: str, tmp_path: Path
) -> None:
    old = sm.secret("s", "pw")["VersionId"]
    register(sm.store, tmp_path, account=ACCOUNT, fail_step="setSecret")
    token = sm.call("RotateSecret", SecretId="s", RotationLambdaARN=toy)["VersionId"]
    assert _run(sm) == 1
    assert sm.value("s")["SecretString"] == "pw"  # AWSCURRENT still works
    assert sm.stages("s") == {old: ["AWSCURRENT"], token: ["AWSPENDING"]}
    assert sm.value("s", VersionStage="AWSPENDING")["SecretString"] == "pw+"
    failed = sm.events()[-1]["detail"]
    assert failed["eventName"] == "RotationFailed"
    assert failed["additionalEventData"]["Step"] == "setSecret"
    assert "unreachable" in failed["errorMessage"]
    # A new RotateSecret meanwhile is refused, as in AWS.
    err = sm.error("RotateSecret", SecretId="s")
    assert err.message == "A previous rotation isn't complete. That rotation will be reattempted."
    # Fixed rotator; the retry waits for its backoff, then reuses the token.
    register(sm.store, tmp_path, account=ACCOUNT)
    assert _run(sm) == 0
    sm.clock.advance(61)
    assert _run(sm) == 1
    assert sm.value("s")["VersionId"] == token
    assert sm.value("s")["SecretString"] == "pw+"


def test_rotator_that_does_not_finish_fails_the_rotation(
    sm: SmEnv, toy: str, tmp_path: Path
) -> None:
    sm.secret("s", "pw")
    register(sm.store, tmp_path, account=ACCOUNT, lazy=True)
    sm.call("RotateSecret", SecretId="s", RotationLambdaARN=toy)
    _run(sm)
    failed = sm.events()[-1]["detail"]
    assert failed["eventName"] == "RotationFailed"
    assert failed["additionalEventData"]["Step"] == "finishSecret"
    assert sm.value("s")["SecretString"] == "pw"


def test_manual_update_abandons_a_pending_rotation(sm: SmEnv, toy: str, tmp_path: Path) -> None:
    sm.secret("s", "pw")
    register(sm.store, tmp_path, account=ACCOUNT, fail_step="testSecret")
    sm.call("RotateSecret", SecretId="s", RotationLambdaARN=toy)
    _run(sm)
    new = sm.call("PutSecretValue", SecretId="s", SecretString="manual")["VersionId"]
    stages = sm.stages("s")
    assert all("AWSPENDING" not in s for s in stages.values())
    assert stages[new] == ["AWSCURRENT"]
    assert sm.event_names()[-1] == "RotationAbandoned"
    # The rotation can start again.
    register(sm.store, tmp_path, account=ACCOUNT)
    sm.call("RotateSecret", SecretId="s")
    _run(sm)
    assert sm.value("s")["SecretString"] == "manual+"


def test_cancel_rotate_secret(sm: SmEnv, toy: str) -> None:
    sm.secret("s", "pw")
    sm.call(
        "RotateSecret",
        SecretId="s",
        RotationLambdaARN=toy,
        RotationRules={"AutomaticallyAfterDays": 1},
        RotateImmediately=False,
    )
    out = sm.call("CancelRotateSecret", SecretId="s")
    assert out["Name"] == "s"
    described = sm.call("DescribeSecret", SecretId="s")
    assert described["RotationEnabled"] is False
    assert "NextRotationDate" not in described
    assert described["RotationRules"] == {"AutomaticallyAfterDays": 1}  # kept, as AWS does
    sm.clock.advance(3 * 86400)
    assert _run(sm) == 0


def test_rotation_of_deleted_or_replica_secret(sm: SmEnv, toy: str) -> None:
    sm.secret("s", "pw")
    sm.call("RotateSecret", SecretId="s", RotationLambdaARN=toy)
    sm.call("DeleteSecret", SecretId="s")
    assert _run(sm) == 0
    err = sm.error("RotateSecret", SecretId="s")
    assert err.code == "InvalidRequestException"


def test_invalid_rotation_rules(sm: SmEnv, toy: str) -> None:
    sm.secret("s", "pw")
    err = sm.error(
        "RotateSecret",
        SecretId="s",
        RotationLambdaARN=toy,
        RotationRules={"ScheduleExpression": "rate(2 hours)"},
    )
    assert err.code == "InvalidParameterException"


def test_lambda_invoke_permission_is_required(sm: SmEnv, toy: str) -> None:
    from tests.services.secretsmanager.sm_support import allow

    sm.secret("s", "pw")
    user = sm.user("rotator", allow("secretsmanager:*"))
    err = sm.error("RotateSecret", principal=user, SecretId="s", RotationLambdaARN=toy)
    assert err.code == "AccessDeniedException"
    assert "lambda:InvokeFunction" in err.message
