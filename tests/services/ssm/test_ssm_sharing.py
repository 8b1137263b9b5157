"""Sharing an advanced parameter with another account through a resource policy;
the other account reads it by ARN (its IAM policy and the resource policy must
both allow, and for a SecureString the key policy must let it decrypt)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.services.ssm.ssm_support import SsmEnv, allow
from tests.support.fake_platform import ACCOUNT, OTHER_ACCOUNT

from strongroom.errors import ServiceError
from strongroom.iam.principal import Principal

NAME = "/shared/db/password"
ARN = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter{NAME}"
READ = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"]


def _share_policy(actions: Any = READ, principal: Any = OTHER_ACCOUNT, resource: str = ARN) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": principal},
                    "Action": actions,
                    "Resource": resource,
                }
            ],
        }
    )


def _key_shared_with_other(ssm: SsmEnv) -> str:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                "Action": "kms:Decrypt",
                "Resource": "*",
            },
        ],
    }
    return ssm.kms_key(Policy=json.dumps(policy))


@pytest.fixture()
def shared(ssm: SsmEnv) -> SsmEnv:
    key = _key_shared_with_other(ssm)
    ssm.put(NAME, "s3cret", "SecureString", KeyId=key, Tier="Advanced")
    ssm.key = key  # type: ignore[attr-defined]
    return ssm


def _consumer(ssm: SsmEnv, name: str = "app", kms: bool = True) -> Principal:
    policies = [allow([*READ, "ssm:DescribeParameters"], ARN)]
    if kms:
        policies.append(allow("kms:Decrypt", ssm.key))  # type: ignore[attr-defined]
    policies.append(allow("ssm:DescribeParameters"))
    return ssm.user(name, *policies, other=True)


def _error(ssm: SsmEnv, principal: Principal, operation: str, **params: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        ssm.call(operation, principal=principal, **params)
    return info.value


def test_cross_account_read_by_arn(shared: SsmEnv) -> None:
    consumer = _consumer(shared)
    # Not shared yet: the consumer's own policy is not enough across accounts.
    assert _error(shared, consumer, "GetParameter", Name=ARN).code == "AccessDeniedException"
    out = shared.call("PutResourcePolicy", ResourceArn=ARN, Policy=_share_policy())
    assert out["PolicyId"] and len(out["PolicyHash"]) == 64
    got = shared.call("GetParameter", principal=consumer, Name=ARN, WithDecryption=True)
    assert got["Parameter"]["Value"] == "s3cret"
    assert got["Parameter"]["Name"] == ARN and got["Parameter"]["ARN"] == ARN
    many = shared.call("GetParameters", principal=consumer, Names=[ARN, ARN + ":1"])
    assert [p["Version"] for p in many["Parameters"]] == [1, 1]
    history = shared.call("GetParameterHistory", principal=consumer, Name=ARN)["Parameters"]
    assert len(history) == 1 and history[0]["Value"] != "s3cret"
    # A plain name means the consumer's own account.
    err = _error(shared, shared.other_admin, "GetParameter", Name=NAME)
    assert err.code == "ParameterNotFound"


def test_consumer_needs_its_own_permissions_too(shared: SsmEnv) -> None:
    shared.call("PutResourcePolicy", ResourceArn=ARN, Policy=_share_policy())
    nobody = shared.user("nobody", other=True)
    assert _error(shared, nobody, "GetParameter", Name=ARN).code == "AccessDeniedException"
    no_key = _consumer(shared, "nokey", kms=False)
    assert shared.call("GetParameter", principal=no_key, Name=ARN)["Parameter"]["Version"] == 1
    err = _error(shared, no_key, "GetParameter", Name=ARN, WithDecryption=True)
    assert err.code == "AccessDeniedException" and "kms:Decrypt" in err.message


def test_shared_parameters_are_read_only(shared: SsmEnv) -> None:
    shared.call("PutResourcePolicy", ResourceArn=ARN, Policy=_share_policy())
    admin = shared.other_admin
    for operation, params in (
        ("DeleteParameter", {"Name": ARN}),
        ("LabelParameterVersion", {"Name": ARN, "Labels": ["x"]}),
        (
            "AddTagsToResource",
            {"ResourceType": "Parameter", "ResourceId": ARN, "Tags": [{"Key": "a", "Value": "b"}]},
        ),
    ):
        assert _error(shared, admin, operation, **params).code in (
            "AccessDeniedException",
            "InvalidResourceId",
        ), operation
    assert shared.get(NAME)["Version"] == 1


def test_describe_shared(shared: SsmEnv) -> None:
    consumer = _consumer(shared)
    assert shared.call("DescribeParameters", principal=consumer, Shared=True)["Parameters"] == []
    shared.call("PutResourcePolicy", ResourceArn=ARN, Policy=_share_policy())
    listed = shared.call("DescribeParameters", principal=consumer, Shared=True)["Parameters"]
    assert [(p["Name"], p["ARN"], p["Tier"]) for p in listed] == [(ARN, ARN, "Advanced")]
    # The consumer's own listing does not include it; the owner's is unchanged.
    assert shared.call("DescribeParameters", principal=consumer)["Parameters"] == []
    assert shared.call("DescribeParameters", Shared=True)["Parameters"] == []


def test_policy_lifecycle_with_hashes(shared: SsmEnv) -> None:
    consumer = _consumer(shared)
    first = shared.call("PutResourcePolicy", ResourceArn=ARN, Policy=_share_policy())
    got = shared.call("GetResourcePolicies", ResourceArn=ARN)["Policies"]
    assert got == [
        {
            "PolicyId": first["PolicyId"],
            "PolicyHash": first["PolicyHash"],
            "Policy": _share_policy(),
        }
    ]
    narrower = _share_policy(actions="ssm:GetParameters")
    err = shared.error(
        "PutResourcePolicy",
        ResourceArn=ARN,
        Policy=narrower,
        PolicyId=first["PolicyId"],
        PolicyHash="stale",
    )
    assert err.code == "ResourcePolicyConflictException"
    err = shared.error(
        "PutResourcePolicy", ResourceArn=ARN, Policy=narrower, PolicyId="nope", PolicyHash="x"
    )
    assert err.code == "ResourcePolicyNotFoundException"
    second = shared.call(
        "PutResourcePolicy",
        ResourceArn=ARN,
        Policy=narrower,
        PolicyId=first["PolicyId"],
        PolicyHash=first["PolicyHash"],
    )
    assert second["PolicyId"] == first["PolicyId"] and second["PolicyHash"] != first["PolicyHash"]
    assert _error(shared, consumer, "GetParameter", Name=ARN).code == "AccessDeniedException"
    assert shared.call("GetParameters", principal=consumer, Names=[ARN])["Parameters"]
    err = shared.error(
        "DeleteResourcePolicy", ResourceArn=ARN, PolicyId=first["PolicyId"], PolicyHash="old"
    )
    assert err.code == "ResourcePolicyConflictException"
    shared.call(
        "DeleteResourcePolicy",
        ResourceArn=ARN,
        PolicyId=second["PolicyId"],
        PolicyHash=second["PolicyHash"],
    )
    assert shared.call("GetResourcePolicies", ResourceArn=ARN)["Policies"] == []
    assert _error(shared, consumer, "GetParameters", Names=[ARN]).code == "AccessDeniedException"
    assert shared.call("DescribeParameters", principal=consumer, Shared=True)["Parameters"] == []
    assert not shared.store.list("ssm/shared/")


@pytest.mark.parametrize(
    ("policy", "code"),
    [
        (_share_policy(actions="ssm:PutParameter"), "MalformedResourcePolicyDocumentException"),
        (_share_policy(principal="*"), "MalformedResourcePolicyDocumentException"),
        (_share_policy(resource=ARN + "x"), "MalformedResourcePolicyDocumentException"),
        ("{not json", "MalformedResourcePolicyDocumentException"),
        (
            _share_policy(principal=[f"{n:012d}" for n in range(60)]),
            "ResourcePolicyLimitExceededException",
        ),
    ],
)
def test_invalid_policies(shared: SsmEnv, policy: str, code: str) -> None:
    assert shared.error("PutResourcePolicy", ResourceArn=ARN, Policy=policy).code == code


def test_only_advanced_customer_key_parameters_can_be_shared(ssm: SsmEnv) -> None:
    ssm.put("/std", "v")
    ssm.put("/adv-default-key", "v", "SecureString", Tier="Advanced")
    for name in ("/std", "/adv-default-key"):
        arn = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter{name}"
        err = ssm.error("PutResourcePolicy", ResourceArn=arn, Policy=_share_policy(resource=arn))
        assert err.code == "ResourcePolicyInvalidParameterException", name
    missing = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/missing"
    err = ssm.error("PutResourcePolicy", ResourceArn=missing, Policy=_share_policy())
    assert err.code == "ResourceNotFoundException"
    other = f"arn:aws:ssm:us-east-1:{OTHER_ACCOUNT}:parameter/x"
    err = ssm.error("GetResourcePolicies", ResourceArn=other)
    assert err.code == "ResourcePolicyInvalidParameterException"
    err = ssm.error("GetResourcePolicies", ResourceArn="/std")
    assert err.code == "ResourcePolicyInvalidParameterException"


def test_delete_unknown_policy(shared: SsmEnv) -> None:
    err = shared.error("DeleteResourcePolicy", ResourceArn=ARN, PolicyId="nope", PolicyHash="x")
    assert err.code == "ResourcePolicyNotFoundException"
    missing = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/missing"
    err = shared.error("GetResourcePolicies", ResourceArn=missing)
    assert err.code == "ResourceNotFoundException"
