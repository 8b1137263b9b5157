"""Access keys, account views and the policy simulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
from tests.support.fake_platform import ACCOUNT, ServiceEnv

from strongroom.errors import ServiceError
from strongroom.iam.principal import root_principal

Call = Callable[..., dict[str, Any]]


def error(call: Call, operation: str, **params: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        call(operation, **params)
    return info.value


def test_access_key_lifecycle(iam: Call, env: ServiceEnv) -> None:
    iam("CreateUser", UserName="k")
    first = iam("CreateAccessKey", UserName="k")["AccessKey"]
    assert first["AccessKeyId"].startswith("AKIA") and len(first["SecretAccessKey"]) == 40
    assert first["Status"] == "Active" and first["UserName"] == "k"
    second = iam("CreateAccessKey", UserName="k")["AccessKey"]
    err = error(iam, "CreateAccessKey", UserName="k")
    assert (err.code, err.status) == ("LimitExceeded", 409)
    listed = iam("ListAccessKeys", UserName="k")["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in listed} == {first["AccessKeyId"], second["AccessKeyId"]}
    assert all("SecretAccessKey" not in k for k in listed)
    credential = env.identities.lookup_access_key(first["AccessKeyId"])
    assert credential is not None and credential.active
    iam("UpdateAccessKey", UserName="k", AccessKeyId=first["AccessKeyId"], Status="Inactive")
    credential = env.identities.lookup_access_key(first["AccessKeyId"])
    assert credential is not None and not credential.active  # same-process write: no TTL wait
    err = error(iam, "UpdateAccessKey", UserName="k", AccessKeyId=first["AccessKeyId"], Status="x")
    assert err.code == "ValidationError"
    iam("DeleteAccessKey", UserName="k", AccessKeyId=first["AccessKeyId"])
    assert env.identities.lookup_access_key(first["AccessKeyId"]) is None
    err = error(iam, "DeleteAccessKey", UserName="k", AccessKeyId=first["AccessKeyId"])
    assert (err.code, err.status) == ("NoSuchEntity", 404)


def test_keys_of_another_user_are_not_reachable(iam: Call) -> None:
    iam("CreateUser", UserName="a")
    iam("CreateUser", UserName="b")
    key = iam("CreateAccessKey", UserName="a")["AccessKey"]["AccessKeyId"]
    assert error(iam, "DeleteAccessKey", UserName="b", AccessKeyId=key).code == "NoSuchEntity"


def test_access_key_without_user_name_is_the_callers(iam: Call, env: ServiceEnv) -> None:
    created = iam("CreateAccessKey")["AccessKey"]
    assert created["UserName"] == "admin"
    assert env.authorizer.last("iam:CreateAccessKey").resource == (
        f"arn:aws:iam::{ACCOUNT}:user/admin"
    )
    root = root_principal(ACCOUNT)
    root_key = iam("CreateAccessKey", _principal=root)["AccessKey"]
    assert "UserName" not in root_key
    credential = env.identities.lookup_access_key(root_key["AccessKeyId"])
    assert credential is not None and credential.principal.is_root


def test_get_access_key_last_used(iam: Call, env: ServiceEnv) -> None:
    out = iam("GetAccessKeyLastUsed", AccessKeyId=env.admin_key)
    assert out["UserName"] == "admin"
    assert out["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    env.identities.note_key_used(env.admin_key, "kms", "eu-west-1")
    used = iam("GetAccessKeyLastUsed", AccessKeyId=env.admin_key)["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("kms", "eu-west-1")
    assert used["LastUsedDate"] == env.clock()
    # Throttled: a second use within the interval does not write again.
    env.identities.note_key_used(env.admin_key, "iam", "us-east-1")
    again = iam("GetAccessKeyLastUsed", AccessKeyId=env.admin_key)["AccessKeyLastUsed"]
    assert again["ServiceName"] == "kms"
    assert error(iam, "GetAccessKeyLastUsed", AccessKeyId="AKIAAAAAAAAAAAAAAAAA").code == (
        "NoSuchEntity"
    )


def test_account_summary(iam: Call) -> None:
    iam("CreateUser", UserName="x")
    iam("CreateGroup", GroupName="g")
    iam("CreatePolicy", PolicyName="p", PolicyDocument=_doc())
    summary = iam("GetAccountSummary")["SummaryMap"]
    assert summary["Users"] == 2 and summary["Groups"] == 1 and summary["Roles"] == 0
    assert summary["Policies"] == 1 and summary["AccessKeysPerUserQuota"] == 2
    assert all(isinstance(v, int) for v in summary.values())


def _doc(action: str = "s3:GetObject", effect: str = "Allow") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Action": action, "Resource": "*"}],
        }
    )


def test_account_authorization_details(iam: Call) -> None:
    iam("CreateGroup", GroupName="g")
    iam("PutGroupPolicy", GroupName="g", PolicyName="gp", PolicyDocument=_doc())
    iam("AddUserToGroup", GroupName="g", UserName="admin")
    iam("CreatePolicy", PolicyName="Local", PolicyDocument=_doc())
    details = iam("GetAccountAuthorizationDetails")
    users = {u["UserName"]: u for u in details["UserDetailList"]}
    assert users["admin"]["GroupList"] == ["g"]
    assert users["admin"]["AttachedManagedPolicies"][0]["PolicyName"] == "AdministratorAccess"
    group = details["GroupDetailList"][0]
    assert unquote(group["GroupPolicyList"][0]["PolicyDocument"]) == _doc()
    names = {p["PolicyName"] for p in details["Policies"]}
    assert names == {"AdministratorAccess", "Local"}  # unused AWS policies are left out
    only_users = iam("GetAccountAuthorizationDetails", Filter=["User"])
    assert "GroupDetailList" not in only_users and "Policies" not in only_users


def test_simulate_principal_policy(iam: Call, env: ServiceEnv) -> None:
    iam("CreateUser", UserName="sim")
    iam("PutUserPolicy", UserName="sim", PolicyName="allow", PolicyDocument=_doc("s3:*"))
    iam(
        "PutUserPolicy",
        UserName="sim",
        PolicyName="deny",
        PolicyDocument=_doc("s3:DeleteBucket", "Deny"),
    )
    results = iam(
        "SimulatePrincipalPolicy",
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/sim",
        ActionNames=["s3:GetObject", "s3:DeleteBucket", "kms:Decrypt"],
    )["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in results}
    assert decisions == {
        "s3:GetObject": "allowed",
        "s3:DeleteBucket": "explicitDeny",
        "kms:Decrypt": "implicitDeny",
    }
    denied = next(r for r in results if r["EvalActionName"] == "s3:DeleteBucket")
    assert denied["MatchedStatements"][0]["SourcePolicyId"] == "deny"
    assert denied["MatchedStatements"][0]["SourcePolicyType"] == "user"
    assert env.authorizer.last("iam:SimulatePrincipalPolicy").resource.endswith(":user/sim")


def test_simulate_principal_policy_with_boundary(iam: Call) -> None:
    iam("CreateUser", UserName="b", PermissionsBoundary="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam("AttachUserPolicy", UserName="b", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    results = iam(
        "SimulatePrincipalPolicy",
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/b",
        ActionNames=["iam:GetUser", "kms:Decrypt"],
    )["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in results}
    assert decisions == {"iam:GetUser": "allowed", "kms:Decrypt": "implicitDeny"}
    kms = next(r for r in results if r["EvalActionName"] == "kms:Decrypt")
    assert kms["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}


def test_simulate_custom_policy(iam: Call) -> None:
    conditional = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
                }
            ],
        }
    )
    no_context = iam(
        "SimulateCustomPolicy", PolicyInputList=[conditional], ActionNames=["kms:Decrypt"]
    )["EvaluationResults"][0]
    assert no_context["EvalDecision"] == "implicitDeny"
    assert no_context["MissingContextValues"] == ["aws:RequestedRegion"]
    with_context = iam(
        "SimulateCustomPolicy",
        PolicyInputList=[conditional],
        ActionNames=["kms:Decrypt"],
        ResourceArns=["arn:aws:kms:eu-west-1:111122223333:key/abc"],
        ContextEntries=[
            {
                "ContextKeyName": "aws:RequestedRegion",
                "ContextKeyValues": ["eu-west-1"],
                "ContextKeyType": "string",
            }
        ],
    )["EvaluationResults"][0]
    assert with_context["EvalDecision"] == "allowed"
    assert with_context["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    err = error(iam, "SimulateCustomPolicy", PolicyInputList=["{bad"], ActionNames=["s3:X"])
    assert err.code == "InvalidInput"
