"""Inline and managed policies, versions, attachments."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
from tests.support.fake_platform import ACCOUNT, ServiceEnv

from strongroom.errors import ServiceError

Call = Callable[..., dict[str, Any]]
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def doc(action: str = "s3:GetObject", resource: str = "*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
        }
    )


def error(call: Call, operation: str, **params: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        call(operation, **params)
    return info.value


@pytest.mark.parametrize("kind", ["User", "Group", "Role"])
def test_inline_policy_crud(iam: Call, kind: str) -> None:
    name_key = f"{kind}Name"
    if kind == "User":
        iam("CreateUser", UserName="e")
    elif kind == "Group":
        iam("CreateGroup", GroupName="e")
    else:
        trust = (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
            '"Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
        )
        iam("CreateRole", RoleName="e", AssumeRolePolicyDocument=trust)
    iam(f"Put{kind}Policy", **{name_key: "e"}, PolicyName="b", PolicyDocument=doc())
    iam(f"Put{kind}Policy", **{name_key: "e"}, PolicyName="a", PolicyDocument=doc("kms:*"))
    got = iam(f"Get{kind}Policy", **{name_key: "e"}, PolicyName="a")
    assert got[name_key] == "e" and got["PolicyName"] == "a"
    assert json.loads(unquote(got["PolicyDocument"]))["Statement"][0]["Action"] == "kms:*"
    assert iam(f"List{kind}Policies", **{name_key: "e"})["PolicyNames"] == ["a", "b"]
    page = iam(f"List{kind}Policies", **{name_key: "e"}, MaxItems=1)
    assert page["PolicyNames"] == ["a"] and page["IsTruncated"]
    iam(f"Delete{kind}Policy", **{name_key: "e"}, PolicyName="a")
    assert iam(f"List{kind}Policies", **{name_key: "e"})["PolicyNames"] == ["b"]
    err = error(iam, f"Get{kind}Policy", **{name_key: "e"}, PolicyName="a")
    assert (err.code, err.status) == ("NoSuchEntity", 404)
    assert error(iam, f"Delete{kind}Policy", **{name_key: "e"}, PolicyName="a").code == (
        "NoSuchEntity"
    )
    assert error(
        iam, f"Put{kind}Policy", **{name_key: "zz"}, PolicyName="a", PolicyDocument=doc()
    ).code == ("NoSuchEntity")


@pytest.mark.parametrize(("kind", "limit"), [("User", 128), ("Group", 128), ("Role", 64)])
def test_policy_holder_names_are_checked_against_the_model_limits(
    iam: Call, kind: str, limit: int
) -> None:
    name_key = f"{kind}Name"
    too_long = error(
        iam,
        f"Put{kind}Policy",
        **{name_key: "r" * (limit + 1)},
        PolicyName="p",
        PolicyDocument=doc(),
    )
    assert (too_long.code, too_long.status) == ("ValidationError", 400)
    assert f"{kind.lower()}Name" in too_long.message
    at_limit = error(
        iam, f"Put{kind}Policy", **{name_key: "r" * limit}, PolicyName="p", PolicyDocument=doc()
    )
    assert at_limit.code == "NoSuchEntity"  # valid, but nobody has that name


def test_inline_policy_rejects_malformed_and_principal(iam: Call) -> None:
    iam("CreateUser", UserName="u")
    err = error(iam, "PutUserPolicy", UserName="u", PolicyName="p", PolicyDocument="{}")
    assert (err.code, err.status) == ("MalformedPolicyDocument", 400)
    with_principal = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
        }
    )
    err = error(iam, "PutUserPolicy", UserName="u", PolicyName="p", PolicyDocument=with_principal)
    assert err.code == "MalformedPolicyDocument"


def test_inline_policy_aggregate_size_limit(iam: Call) -> None:
    iam("CreateUser", UserName="u")
    resources = [f"arn:aws:s3:::bucket-number-{i}/*" for i in range(30)]
    big = doc("s3:GetObject", resources)  # type: ignore[arg-type]
    iam("PutUserPolicy", UserName="u", PolicyName="one", PolicyDocument=big)
    err = error(iam, "PutUserPolicy", UserName="u", PolicyName="two", PolicyDocument=big)
    assert (err.code, err.status) == ("LimitExceeded", 409)
    # Replacing the same policy counts only the new document.
    iam("PutUserPolicy", UserName="u", PolicyName="one", PolicyDocument=big)


def test_url_encoded_input_document_is_accepted(iam: Call) -> None:
    from urllib.parse import quote

    iam("CreateUser", UserName="u")
    iam("PutUserPolicy", UserName="u", PolicyName="p", PolicyDocument=quote(doc(), safe=""))
    got = iam("GetUserPolicy", UserName="u", PolicyName="p")["PolicyDocument"]
    assert unquote(got) == doc()


def test_managed_policy_lifecycle(iam: Call, env: ServiceEnv) -> None:
    created = iam(
        "CreatePolicy",
        PolicyName="Readers",
        Path="/app/",
        PolicyDocument=doc(),
        Description="read",
        Tags=[{"Key": "k", "Value": "v"}],
    )["Policy"]
    arn = f"arn:aws:iam::{ACCOUNT}:policy/app/Readers"
    assert created["Arn"] == arn and created["PolicyId"].startswith("ANPA")
    assert created["DefaultVersionId"] == "v1" and created["AttachmentCount"] == 0
    assert env.authorizer.last("iam:CreatePolicy").resource == arn
    assert error(iam, "CreatePolicy", PolicyName="readers", PolicyDocument=doc()).code == (
        "EntityAlreadyExists"
    )
    got = iam("GetPolicy", PolicyArn=arn)["Policy"]
    assert got["Description"] == "read" and got["Tags"] == [{"Key": "k", "Value": "v"}]
    version = iam("GetPolicyVersion", PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert unquote(version["Document"]) == doc() and version["IsDefaultVersion"] is True
    # versions
    for i in range(2, 6):
        out = iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=doc(f"s3:Put{i}"))
        assert out["PolicyVersion"]["VersionId"] == f"v{i}"
    err = error(iam, "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=doc())
    assert (err.code, err.status) == ("LimitExceeded", 409)
    listed = iam("ListPolicyVersions", PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in listed] == ["v5", "v4", "v3", "v2", "v1"]
    iam("SetDefaultPolicyVersion", PolicyArn=arn, VersionId="v3")
    assert iam("GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    err = error(iam, "DeletePolicyVersion", PolicyArn=arn, VersionId="v3")
    assert (err.code, err.status) == ("DeleteConflict", 409)
    assert error(iam, "DeletePolicy", PolicyArn=arn).code == "DeleteConflict"
    for v in ["v1", "v2", "v4", "v5"]:
        iam("DeletePolicyVersion", PolicyArn=arn, VersionId=v)
    assert error(iam, "GetPolicyVersion", PolicyArn=arn, VersionId="v1").code == "NoSuchEntity"
    assert error(iam, "SetDefaultPolicyVersion", PolicyArn=arn, VersionId="v9").code == (
        "NoSuchEntity"
    )
    iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=doc("s3:X"), SetAsDefault=True)
    assert iam("GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v6"
    iam("DeletePolicyVersion", PolicyArn=arn, VersionId="v3")
    iam("DeletePolicy", PolicyArn=arn)
    assert error(iam, "GetPolicy", PolicyArn=arn).code == "NoSuchEntity"


def test_policy_arn_validation(iam: Call) -> None:
    assert error(iam, "GetPolicy", PolicyArn="not-an-arn-at-all-really").code == "InvalidInput"
    assert error(iam, "GetPolicyVersion", PolicyArn=ADMIN, VersionId="1").code == "ValidationError"


def test_aws_managed_policies_are_listed_but_immutable(iam: Call) -> None:
    aws = iam("ListPolicies", Scope="AWS", MaxItems=1000)["Policies"]
    names = {p["PolicyName"] for p in aws}
    assert {
        "AdministratorAccess",
        "PowerUserAccess",
        "ReadOnlyAccess",
        "IAMFullAccess",
        "IAMReadOnlyAccess",
        "AWSKeyManagementServicePowerUser",
        "SecretsManagerReadWrite",
    } <= names
    admin = iam("GetPolicy", PolicyArn=ADMIN)["Policy"]
    assert admin["AttachmentCount"] == 1  # the account's admin user
    version = iam("GetPolicyVersion", PolicyArn=ADMIN, VersionId="v1")["PolicyVersion"]
    assert json.loads(unquote(version["Document"]))["Statement"] == [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}
    ]
    assert error(iam, "DeletePolicy", PolicyArn=ADMIN).code == "AccessDenied"
    assert error(iam, "CreatePolicyVersion", PolicyArn=ADMIN, PolicyDocument=doc()).code == (
        "AccessDenied"
    )


def test_list_policies_scope_and_only_attached(iam: Call) -> None:
    iam("CreatePolicy", PolicyName="Mine", PolicyDocument=doc())
    iam("CreatePolicy", PolicyName="Other", Path="/x/", PolicyDocument=doc())
    local = iam("ListPolicies", Scope="Local")["Policies"]
    assert [p["PolicyName"] for p in local] == ["Mine", "Other"]
    assert [
        p["PolicyName"] for p in iam("ListPolicies", Scope="Local", PathPrefix="/x/")["Policies"]
    ] == ["Other"]
    iam("AttachUserPolicy", UserName="admin", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/Mine")
    attached = iam("ListPolicies", OnlyAttached=True)["Policies"]
    assert {p["PolicyName"] for p in attached} == {"AdministratorAccess", "Mine"}
    first = iam("ListPolicies", MaxItems=2)
    assert first["IsTruncated"] and len(first["Policies"]) == 2
    second = iam("ListPolicies", MaxItems=1000, Marker=first["Marker"])
    assert first["Policies"][1]["Arn"] not in {p["Arn"] for p in second["Policies"]}


def test_attach_detach_and_list(iam: Call, env: ServiceEnv) -> None:
    iam("CreateUser", UserName="u")
    iam("AttachUserPolicy", UserName="u", PolicyArn=READ_ONLY)
    iam("AttachUserPolicy", UserName="u", PolicyArn=READ_ONLY)  # no-op
    assert env.authorizer.last("iam:AttachUserPolicy").conditions["iam:PolicyARN"] == READ_ONLY
    attached = iam("ListAttachedUserPolicies", UserName="u")["AttachedPolicies"]
    assert attached == [{"PolicyName": "ReadOnlyAccess", "PolicyArn": READ_ONLY}]
    assert iam("GetPolicy", PolicyArn=READ_ONLY)["Policy"]["AttachmentCount"] == 1
    iam("DetachUserPolicy", UserName="u", PolicyArn=READ_ONLY)
    assert iam("ListAttachedUserPolicies", UserName="u")["AttachedPolicies"] == []
    err = error(iam, "DetachUserPolicy", UserName="u", PolicyArn=READ_ONLY)
    assert (err.code, err.status) == ("NoSuchEntity", 404)
    missing = f"arn:aws:iam::{ACCOUNT}:policy/Missing"
    assert error(iam, "AttachUserPolicy", UserName="u", PolicyArn=missing).code == "NoSuchEntity"
    other = "arn:aws:iam::999988887777:policy/Theirs"
    assert error(iam, "AttachUserPolicy", UserName="u", PolicyArn=other).code == "NoSuchEntity"
    assert error(iam, "AttachUserPolicy", UserName="u", PolicyArn="arn:bad").code == "InvalidInput"


def test_attached_policies_limit(iam: Call) -> None:
    iam("CreateGroup", GroupName="g")
    for i in range(10):
        iam("CreatePolicy", PolicyName=f"p{i}", PolicyDocument=doc())
        iam("AttachGroupPolicy", GroupName="g", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/p{i}")
    iam("CreatePolicy", PolicyName="p10", PolicyDocument=doc())
    err = error(
        iam, "AttachGroupPolicy", GroupName="g", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/p10"
    )
    assert (err.code, err.status) == ("LimitExceeded", 409)
    assert len(iam("ListAttachedGroupPolicies", GroupName="g")["AttachedPolicies"]) == 10


def test_delete_attached_policy_conflicts(iam: Call) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/P"
    iam("CreatePolicy", PolicyName="P", PolicyDocument=doc())
    iam("CreateUser", UserName="u")
    iam("PutUserPermissionsBoundary", UserName="u", PermissionsBoundary=arn)
    assert error(iam, "DeletePolicy", PolicyArn=arn).code == "DeleteConflict"
    iam("DeleteUserPermissionsBoundary", UserName="u")
    iam("DeletePolicy", PolicyArn=arn)


def test_list_entities_for_policy(iam: Call) -> None:
    trust = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    )
    iam("CreateUser", UserName="u", Path="/a/")
    iam("CreateGroup", GroupName="g")
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=trust)
    for kind, name in [("User", "u"), ("Group", "g"), ("Role", "r")]:
        iam(f"Attach{kind}Policy", **{f"{kind}Name": name}, PolicyArn=READ_ONLY)
    out = iam("ListEntitiesForPolicy", PolicyArn=READ_ONLY)
    assert [u["UserName"] for u in out["PolicyUsers"]] == ["u"]
    assert [g["GroupName"] for g in out["PolicyGroups"]] == ["g"]
    assert [r["RoleName"] for r in out["PolicyRoles"]] == ["r"]
    assert out["PolicyUsers"][0]["UserId"].startswith("AIDA")
    roles_only = iam("ListEntitiesForPolicy", PolicyArn=READ_ONLY, EntityFilter="Role")
    assert roles_only["PolicyUsers"] == [] and len(roles_only["PolicyRoles"]) == 1
    by_path = iam("ListEntitiesForPolicy", PolicyArn=READ_ONLY, PathPrefix="/a/")
    assert [u["UserName"] for u in by_path["PolicyUsers"]] == ["u"] and by_path["PolicyRoles"] == []
    local_only = iam(
        "ListEntitiesForPolicy", PolicyArn=READ_ONLY, EntityFilter="LocalManagedPolicy"
    )
    assert local_only["PolicyUsers"] == []


def test_policy_tags(iam: Call) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/T"
    iam("CreatePolicy", PolicyName="T", PolicyDocument=doc())
    iam("TagPolicy", PolicyArn=arn, Tags=[{"Key": "a", "Value": "1"}])
    assert iam("ListPolicyTags", PolicyArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    iam("UntagPolicy", PolicyArn=arn, TagKeys=["a"])
    assert iam("ListPolicyTags", PolicyArn=arn)["Tags"] == []
    assert error(iam, "TagPolicy", PolicyArn=ADMIN, Tags=[{"Key": "a", "Value": "1"}]).code == (
        "AccessDenied"
    )


def test_managed_policy_changes_reach_policies_for(iam: Call, env: ServiceEnv) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/Live"
    iam("CreatePolicy", PolicyName="Live", PolicyDocument=doc("s3:A"))
    iam("CreateUser", UserName="u")
    key = iam("CreateAccessKey", UserName="u")["AccessKey"]["AccessKeyId"]
    iam("AttachUserPolicy", UserName="u", PolicyArn=arn)
    principal = env.principal(key)
    assert "s3:A" in env.identities.policies_for(principal).identity[0][1]
    iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=doc("s3:B"), SetAsDefault=True)
    assert "s3:B" in env.identities.policies_for(principal).identity[0][1]
