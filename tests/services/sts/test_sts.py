"""STS: GetCallerIdentity, AssumeRole, GetSessionToken, GetAccessKeyInfo."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from tests.support.fake_platform import ACCOUNT, OTHER_ACCOUNT, ServiceEnv

from strongroom.errors import ServiceError
from strongroom.iam.ids import token_digest
from strongroom.iam.principal import Principal, PrincipalType, root_principal

Call = Callable[..., dict[str, Any]]

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
)
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/app/Worker"


def doc(action: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
        }
    )


def error(call: Call, operation: str, **params: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        call(operation, **params)
    return info.value


@pytest.fixture()
def role(iam: Call) -> str:
    iam(
        "CreateRole",
        RoleName="Worker",
        Path="/app/",
        AssumeRolePolicyDocument=TRUST,
        MaxSessionDuration=7200,
        Tags=[{"Key": "team", "Value": "core"}],
    )
    iam("PutRolePolicy", RoleName="Worker", PolicyName="kms", PolicyDocument=doc("kms:*"))
    return ROLE_ARN


def assume(sts: Call, **params: Any) -> dict[str, Any]:
    params.setdefault("RoleArn", ROLE_ARN)
    params.setdefault("RoleSessionName", "job-1")
    return sts("AssumeRole", **params)


def session_principal(env: ServiceEnv, out: dict[str, Any]) -> Principal:
    return env.principal(out["Credentials"]["AccessKeyId"])


def test_get_caller_identity_needs_no_permission(sts: Call, env: ServiceEnv) -> None:
    env.authorizer.denied_actions.add("sts:GetCallerIdentity")
    out = sts("GetCallerIdentity")
    assert out == {
        "UserId": env.admin.principal_id,
        "Account": ACCOUNT,
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/admin",
    }
    assert env.authorizer.calls == []
    root = sts("GetCallerIdentity", _principal=root_principal(ACCOUNT))
    assert root == {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:root"}


def test_assume_role(sts: Call, iam: Call, env: ServiceEnv, role: str) -> None:
    out = assume(sts, ExternalId="ext-123")
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["SecretAccessKey"]) == 40
    assert creds["SessionToken"]
    assert creds["Expiration"] == env.clock() + timedelta(hours=1)
    role_id = iam("GetRole", RoleName="Worker")["Role"]["RoleId"]
    assert out["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role_id}:job-1",
        "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Worker/job-1",
    }
    call = env.authorizer.last("sts:AssumeRole")
    assert call.resource == ROLE_ARN
    assert call.resource_policy == TRUST
    assert call.resource_account == ACCOUNT
    assert call.require_resource_policy is True
    assert call.conditions["sts:ExternalId"] == "ext-123"
    assert call.conditions["sts:RoleSessionName"] == "job-1"
    # The session authenticates as the assumed role, with the role's policies.
    principal = session_principal(env, out)
    assert principal.type is PrincipalType.ASSUMED_ROLE
    assert principal.arn == out["AssumedRoleUser"]["Arn"]
    assert principal.principal_id == f"{role_id}:job-1"
    assert principal.tags == {"team": "core"}
    policies = env.identities.policies_for(principal)
    assert [label for label, _ in policies.identity] == ["role/Worker/kms"]
    caller = sts("GetCallerIdentity", _principal=principal)
    assert caller["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Worker/job-1"
    assert caller["UserId"] == f"{role_id}:job-1"
    assert "RoleLastUsed" in iam("GetRole", RoleName="Worker")["Role"]
    assert iam("GetRole", RoleName="Worker")["Role"]["RoleLastUsed"]["Region"] == "us-east-1"


def test_session_token_is_stored_only_as_hash(sts: Call, env: ServiceEnv, role: str) -> None:
    out = assume(sts)
    token = out["Credentials"]["SessionToken"]
    secret = out["Credentials"]["SecretAccessKey"]
    dump = env.store.dump()
    blob = b"".join(dump.values()) + "".join(dump).encode()
    assert token.encode() not in blob
    assert secret.encode() in blob  # the secret must be kept: SigV4 needs it
    credential = env.identities.lookup_access_key(out["Credentials"]["AccessKeyId"])
    assert credential is not None
    assert credential.session_token_sha256 == token_digest(token)
    assert credential.expires == out["Credentials"]["Expiration"]


def test_trust_policy_refusal(sts: Call, env: ServiceEnv, role: str) -> None:
    env.authorizer.denied_actions.add("sts:AssumeRole")
    before = set(env.store.dump())
    err = error(sts, "AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="s1")
    assert (err.code, err.status) == ("AccessDenied", 403)
    assert set(env.store.dump()) == before  # no session was issued


def test_missing_role_is_access_denied(sts: Call, env: ServiceEnv) -> None:
    err = error(
        sts, "AssumeRole", RoleArn=f"arn:aws:iam::{ACCOUNT}:role/nope", RoleSessionName="sx"
    )
    assert (err.code, err.status) == ("AccessDenied", 403)
    # Wrong path for an existing role is also not that role.
    err = error(
        sts, "AssumeRole", RoleArn=f"arn:aws:iam::{ACCOUNT}:role/Worker", RoleSessionName="sx"
    )
    assert err.code == "AccessDenied"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"RoleSessionName": "x"}, "ValidationError"),
        ({"RoleSessionName": "bad name"}, "ValidationError"),
        ({"RoleArn": "arn:aws:iam::123:user/x"}, "ValidationError"),
        ({"DurationSeconds": 899}, "ValidationError"),
        ({"DurationSeconds": 7201}, "ValidationError"),
        ({"Policy": "{not json"}, "MalformedPolicyDocument"),
        ({"TokenCode": "123456", "SerialNumber": "arn:aws:iam::1:mfa/x"}, "AccessDenied"),
    ],
)
def test_assume_role_rejections(sts: Call, role: str, params: dict[str, Any], code: str) -> None:
    with pytest.raises(ServiceError) as info:
        assume(sts, **params)
    assert info.value.code == code


def test_duration_up_to_role_maximum(sts: Call, env: ServiceEnv, role: str) -> None:
    out = assume(sts, DurationSeconds=7200)
    assert out["Credentials"]["Expiration"] == env.clock() + timedelta(seconds=7200)
    err = error(sts, "AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="sx", DurationSeconds=7201)
    assert "MaxSessionDuration" in err.message


def test_role_chaining_is_limited_to_one_hour(sts: Call, env: ServiceEnv, role: str) -> None:
    first = session_principal(env, assume(sts))
    err = error(
        sts,
        "AssumeRole",
        RoleArn=ROLE_ARN,
        RoleSessionName="s2",
        DurationSeconds=3601,
        _principal=first,
    )
    assert err.code == "ValidationError" and "role chaining" in err.message
    chained = assume(sts, RoleSessionName="s2", DurationSeconds=3600, _principal=first)
    assert chained["Credentials"]["Expiration"] == env.clock() + timedelta(hours=1)


def test_session_policies(sts: Call, env: ServiceEnv, role: str) -> None:
    inline = doc("kms:Decrypt")
    out = assume(sts, Policy=inline, PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}])
    assert 0 < out["PackedPolicySize"] <= 100
    principal = session_principal(env, out)
    assert principal.session is not None
    assert principal.session.session_policies[0] == inline
    assert "kms:Describe*" in principal.session.session_policies[1]
    assert env.identities.policies_for(principal).session == principal.session.session_policies
    err = error(
        sts,
        "AssumeRole",
        RoleArn=ROLE_ARN,
        RoleSessionName="sx",
        PolicyArns=[{"arn": f"arn:aws:iam::{ACCOUNT}:policy/Missing"}],
    )
    assert err.code == "MalformedPolicyDocument"


def test_packed_policy_too_large(sts: Call, role: str) -> None:
    actions = [f"service{i}:SomeRatherLongActionName{i}" for i in range(120)]
    big = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
    )
    with pytest.raises(ServiceError) as info:
        assume(sts, Policy=big)
    assert (info.value.code, info.value.status) == ("PackedPolicyTooLarge", 400)


def test_session_tags_and_transitive_tags(sts: Call, env: ServiceEnv, role: str) -> None:
    out = assume(
        sts,
        Tags=[{"Key": "team", "Value": "override"}, {"Key": "project", "Value": "p1"}],
        TransitiveTagKeys=["project"],
    )
    assert "sts:TagSession" in env.authorizer.actions()
    assert env.authorizer.last("sts:AssumeRole").conditions["aws:RequestTag/project"] == "p1"
    first = session_principal(env, out)
    assert first.tags == {"team": "override", "project": "p1"}
    chained = session_principal(env, assume(sts, RoleSessionName="s2", _principal=first))
    assert chained.tags == {"team": "core", "project": "p1"}  # project carried, team from role
    err = error(
        sts,
        "AssumeRole",
        RoleArn=ROLE_ARN,
        RoleSessionName="s3",
        _principal=first,
        Tags=[{"Key": "Project", "Value": "other"}],
    )
    assert err.code == "ValidationError"
    err = error(
        sts,
        "AssumeRole",
        RoleArn=ROLE_ARN,
        RoleSessionName="s4",
        Tags=[{"Key": "a", "Value": "1"}],
        TransitiveTagKeys=["b"],
    )
    assert err.code == "ValidationError"


def test_source_identity(sts: Call, env: ServiceEnv, role: str) -> None:
    out = assume(sts, SourceIdentity="alice@example.com")
    assert out["SourceIdentity"] == "alice@example.com"
    assert "sts:SetSourceIdentity" in env.authorizer.actions()
    first = session_principal(env, out)
    chained = assume(sts, RoleSessionName="s2", _principal=first)
    assert chained["SourceIdentity"] == "alice@example.com"


def test_deleted_role_session_loses_policies(
    sts: Call, iam: Call, env: ServiceEnv, role: str
) -> None:
    principal = session_principal(env, assume(sts))
    iam("DeleteRolePolicy", RoleName="Worker", PolicyName="kms")
    iam("DeleteRole", RoleName="Worker")
    iam("CreateRole", RoleName="Worker", Path="/app/", AssumeRolePolicyDocument=TRUST)
    iam("PutRolePolicy", RoleName="Worker", PolicyName="kms", PolicyDocument=doc("kms:*"))
    assert env.identities.policies_for(principal).identity == ()


def test_cross_account_assume_role_passes_resource_account(
    sts: Call, env: ServiceEnv, role: str
) -> None:
    outsider = Principal(
        account_id=OTHER_ACCOUNT,
        arn=f"arn:aws:iam::{OTHER_ACCOUNT}:user/x",
        type=PrincipalType.USER,
        principal_id="AIDAOUTSIDER",
        access_key_id="AKIAOUTSIDER",
        user_name="x",
    )
    out = assume(sts, _principal=outsider)
    assert env.authorizer.last("sts:AssumeRole").resource_account == ACCOUNT
    assert session_principal(env, out).account_id == ACCOUNT


def test_get_session_token_for_user(sts: Call, env: ServiceEnv) -> None:
    out = sts("GetSessionToken")
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert creds["Expiration"] == env.clock() + timedelta(hours=12)
    principal = session_principal(env, out)
    assert principal.type is PrincipalType.USER
    assert principal.arn == env.admin.arn and principal.principal_id == env.admin.principal_id
    assert principal.session is not None and principal.session.issuer_type == "IAMUser"
    policies = env.identities.policies_for(principal)
    assert [label for label, _ in policies.identity] == [
        "arn:aws:iam::aws:policy/AdministratorAccess"
    ]
    assert sts("GetCallerIdentity", _principal=principal)["Arn"] == env.admin.arn
    err = error(sts, "GetSessionToken", _principal=principal)
    assert (err.code, err.status) == ("AccessDenied", 403)


@pytest.mark.parametrize("seconds", [899, 129601])
def test_get_session_token_duration_bounds(sts: Call, seconds: int) -> None:
    assert error(sts, "GetSessionToken", DurationSeconds=seconds).code == "ValidationError"


def test_get_session_token_for_root_is_capped_at_one_hour(sts: Call, env: ServiceEnv) -> None:
    root = root_principal(ACCOUNT)
    out = sts("GetSessionToken", _principal=root)
    assert out["Credentials"]["Expiration"] == env.clock() + timedelta(hours=1)
    assert error(sts, "GetSessionToken", DurationSeconds=3601, _principal=root).code == (
        "ValidationError"
    )
    assert session_principal(env, out).is_root


def test_get_session_token_from_role_session_is_denied(
    sts: Call, env: ServiceEnv, role: str
) -> None:
    principal = session_principal(env, assume(sts))
    assert error(sts, "GetSessionToken", _principal=principal).code == "AccessDenied"


def test_get_access_key_info(sts: Call, env: ServiceEnv) -> None:
    assert sts("GetAccessKeyInfo", AccessKeyId=env.admin_key) == {"Account": ACCOUNT}
    assert env.authorizer.last("sts:GetAccessKeyInfo").resource == "*"
    assert error(sts, "GetAccessKeyInfo", AccessKeyId="AKIAAAAAAAAAAAAAAAAA").code == (
        "ValidationError"
    )


def test_expired_sessions_are_purged(sts: Call, env: ServiceEnv, role: str) -> None:
    out = assume(sts, DurationSeconds=900)
    akid = out["Credentials"]["AccessKeyId"]
    env.clock.advance(901)
    assert env.identities.purge_expired_sessions(env.clock()) == 1
    env.clock.advance(5)  # past the lookup cache TTL
    assert env.identities.lookup_access_key(akid) is None
