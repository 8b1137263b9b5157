"""Parameter policies: validation, and enforcement by the background job
(Expiration really deletes; notifications publish "Parameter Store Policy Action")."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from tests.services.ssm.ssm_support import SsmEnv
from tests.support.fake_platform import ACCOUNT

HOUR = 3600


def _policy(kind: str, **attributes: str) -> dict[str, Any]:
    return {"Type": kind, "Version": "1.0", "Attributes": attributes}


def _text(*policies: dict[str, Any]) -> str:
    return json.dumps(list(policies))


def _at(ssm: SsmEnv, seconds: float) -> str:
    return (ssm.clock.now + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.mark.parametrize(
    ("policies", "code"),
    [
        ("not json", "ValidationException"),
        ('"a string"', "ValidationException"),
        (
            _text(*[_policy("NoChangeNotification", After="1", Unit="Days")] * 11),
            "PoliciesLimitExceededException",
        ),
        (_text(_policy("Rotation", After="1", Unit="Days")), "InvalidPolicyTypeException"),
        (
            json.dumps(
                [
                    {
                        "Type": "Expiration",
                        "Version": "2.0",
                        "Attributes": {"Timestamp": "2099-01-01T00:00:00Z"},
                    }
                ]
            ),
            "InvalidPolicyAttributeException",
        ),
        (
            _text(_policy("Expiration", Timestamp="2001-01-01T00:00:00Z")),
            "InvalidPolicyAttributeException",
        ),
        (_text(_policy("Expiration", Timestamp="tomorrow")), "InvalidPolicyAttributeException"),
        (
            _text(_policy("Expiration", Timestamp="2099-01-01T00:00:00")),
            "InvalidPolicyAttributeException",
        ),
        (
            _text(_policy("NoChangeNotification", After="1", Unit="Weeks")),
            "InvalidPolicyAttributeException",
        ),
        (
            _text(_policy("NoChangeNotification", After="-1", Unit="Days")),
            "InvalidPolicyAttributeException",
        ),
        (
            _text(_policy("NoChangeNotification", After="1", Unit="Days", Extra="x")),
            "InvalidPolicyAttributeException",
        ),
        (
            _text(
                _policy("Expiration", Timestamp="2099-01-01T00:00:00Z"),
                _policy("Expiration", Timestamp="2099-02-01T00:00:00Z"),
            ),
            "IncompatiblePolicyException",
        ),
        (
            _text(_policy("ExpirationNotification", Before="1", Unit="Days")),
            "IncompatiblePolicyException",
        ),
    ],
)
def test_policy_validation(ssm: SsmEnv, policies: str, code: str) -> None:
    err = ssm.error(
        "PutParameter", Name="/p", Value="v", Type="String", Tier="Advanced", Policies=policies
    )
    assert err.code == code


def test_standard_tier_has_no_policies(ssm: SsmEnv) -> None:
    text = _text(_policy("NoChangeNotification", After="1", Unit="Days"))
    err = ssm.error("PutParameter", Name="/p", Value="v", Type="String", Policies=text)
    assert err.code == "ValidationException" and "policies" in err.message


def test_offset_timestamps_are_accepted(ssm: SsmEnv) -> None:
    text = _text(_policy("Expiration", Timestamp="2099-11-01T22:13:48.87+10:30"))
    ssm.put("/p", Tier="Advanced", Policies=text)


def test_policies_shown_and_enforced(ssm: SsmEnv) -> None:
    expiry = _at(ssm, 48 * HOUR)
    text = _text(
        _policy("Expiration", Timestamp=expiry),
        _policy("ExpirationNotification", Before="12", Unit="Hours"),
        _policy("NoChangeNotification", After="1", Unit="Days"),
    )
    ssm.put("/exp", "v", Tier="Advanced", Policies=text)
    shown = ssm.call("DescribeParameters")["Parameters"][0]["Policies"]
    assert [(p["PolicyType"], p["PolicyStatus"]) for p in shown] == [
        ("Expiration", "Pending"),
        ("ExpirationNotification", "Pending"),
        ("NoChangeNotification", "Pending"),
    ]
    assert json.loads(shown[0]["PolicyText"])["Attributes"]["Timestamp"] == expiry
    assert ssm.run_jobs() == 0

    ssm.clock.advance(24 * HOUR)  # unchanged for a day
    assert ssm.run_jobs() == 1
    ssm.clock.advance(12 * HOUR)  # 12 hours before the expiration
    assert ssm.run_jobs() == 1
    statuses = {
        p["PolicyType"]: p["PolicyStatus"]
        for p in ssm.call("DescribeParameters")["Parameters"][0]["Policies"]
    }
    assert statuses == {
        "Expiration": "Pending",
        "ExpirationNotification": "Finished",
        "NoChangeNotification": "Finished",
    }
    ssm.clock.advance(12 * HOUR)
    assert ssm.run_jobs() == 1
    assert ssm.error("GetParameter", Name="/exp").code == "ParameterNotFound"
    assert not [k for k in ssm.store.list("ssm/") if "exp" in k]
    assert ssm.run_jobs() == 0

    actions = [
        e for e in ssm.events(ACCOUNT) if e["detail-type"] == "Parameter Store Policy Action"
    ]
    assert [e["detail"]["policy-type"] for e in actions] == [
        "NoChangeNotification",
        "ExpirationNotification",
        "Expiration",
    ]
    detail = actions[2]["detail"]
    assert detail["parameter-name"] == "/exp" and detail["parameter-type"] == "String"
    assert detail["action-status"] == "Finished" and "deleted" in detail["action-reason"]
    assert json.loads(detail["policy-content"])["Type"] == "Expiration"
    assert actions[1]["detail"]["action-reason"].startswith("Parameter /exp will expire at")
    assert actions[0]["source"] == "aws.ssm"
    assert actions[0]["resources"] == [f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/exp"]


def test_a_change_restarts_no_change_notification(ssm: SsmEnv) -> None:
    text = _text(_policy("NoChangeNotification", After="2", Unit="Hours"))
    ssm.put("/nc", "1", Tier="Advanced", Policies=text)
    ssm.clock.advance(HOUR + 1800)
    # An overwrite without Policies keeps them, and the clock restarts.
    ssm.call("PutParameter", Name="/nc", Value="2", Overwrite=True)
    ssm.clock.advance(HOUR)
    assert ssm.run_jobs() == 0
    ssm.clock.advance(HOUR)
    assert ssm.run_jobs() == 1
    assert ssm.get("/nc")["Value"] == "2"  # notifications do not delete


def test_expiration_time_survives_updates_and_empty_list_removes(ssm: SsmEnv) -> None:
    text = _text(_policy("Expiration", Timestamp=_at(ssm, HOUR)))
    ssm.put("/e", "1", Tier="Advanced", Policies=text)
    ssm.call("PutParameter", Name="/e", Value="2", Overwrite=True)
    ssm.clock.advance(HOUR)
    assert ssm.run_jobs() == 1
    assert ssm.error("GetParameter", Name="/e").code == "ParameterNotFound"

    ssm.put(
        "/kept",
        "1",
        Tier="Advanced",
        Policies=_text(_policy("Expiration", Timestamp=_at(ssm, HOUR))),
    )
    ssm.call("PutParameter", Name="/kept", Value="2", Overwrite=True, Policies="[]")
    assert ssm.call("DescribeParameters")["Parameters"][0]["Policies"] == []
    assert not ssm.store.list("ssm/due/")
    ssm.clock.advance(2 * HOUR)
    assert ssm.run_jobs() == 0
    assert ssm.get("/kept")["Value"] == "2"


def test_deleted_or_recreated_parameter_drops_stale_schedule(ssm: SsmEnv) -> None:
    text = _text(_policy("Expiration", Timestamp=_at(ssm, HOUR)))
    ssm.put("/r", "1", Tier="Advanced", Policies=text)
    ssm.call("DeleteParameter", Name="/r")
    ssm.put("/r", "again")
    ssm.clock.advance(2 * HOUR)
    assert ssm.run_jobs() == 0
    assert ssm.get("/r")["Value"] == "again"


def test_job_is_registered_with_the_platform(ssm: SsmEnv) -> None:
    ssm.put(
        "/j", "1", Tier="Advanced", Policies=_text(_policy("Expiration", Timestamp=_at(ssm, 60)))
    )
    ssm.clock.advance(61)
    ssm.platform.jobs.run_due()
    assert ssm.error("GetParameter", Name="/j").code == "ParameterNotFound"
