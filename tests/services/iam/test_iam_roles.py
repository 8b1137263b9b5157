"""IAM roles: trust policies, session limits, tags, deletion rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.handlers import json_decode_policies
from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel
from tests.support.fake_platform import ACCOUNT, ServiceEnv

from strongroom.errors import ServiceError

Call = Callable[..., dict[str, Any]]

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
PERMS = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}'


def error(call: Call, operation: str, **params: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        call(operation, **params)
    return info.value


def test_create_and_get_role(iam: Call, env: ServiceEnv) -> None:
    role = iam(
        "CreateRole",
        RoleName="Deployer",
        Path="/ci/",
        AssumeRolePolicyDocument=TRUST,
        Description="deploys",
        MaxSessionDuration=7200,
        Tags=[{"Key": "k", "Value": "v"}],
    )["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/ci/Deployer"
    assert role["RoleId"].startswith("AROA")
    assert role["MaxSessionDuration"] == 7200
    # IAM returns documents URL-encoded; boto3 decodes them back to JSON.
    assert json.loads(unquote(role["AssumeRolePolicyDocument"])) == json.loads(TRUST)
    got = iam("GetRole", RoleName="deployer")["Role"]
    assert got["Description"] == "deploys" and got["Tags"] == [{"Key": "k", "Value": "v"}]
    assert got["RoleLastUsed"] == {}
    assert env.authorizer.last("iam:GetRole").resource == role["Arn"]
    listed = iam("ListRoles", PathPrefix="/ci/")["Roles"]
    assert [r["RoleName"] for r in listed] == ["Deployer"] and "Tags" not in listed[0]


def test_url_encoded_document_is_what_botocore_decodes(iam: Call) -> None:
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=TRUST)
    out = iam("GetRole", RoleName="r")
    model = ServiceModel(Loader().load_service_model("iam", "service-2"), "iam")
    op: OperationModel = model.operation_model("GetRole")
    parsed = {"Role": dict(out["Role"])}
    json_decode_policies(parsed, op)
    assert parsed["Role"]["AssumeRolePolicyDocument"] == json.loads(TRUST)


def test_trust_policy_is_validated(iam: Call) -> None:
    err = error(iam, "CreateRole", RoleName="r", AssumeRolePolicyDocument=PERMS)
    assert (err.code, err.status) == ("MalformedPolicyDocument", 400)
    err = error(iam, "CreateRole", RoleName="r", AssumeRolePolicyDocument="{not json")
    assert err.code == "MalformedPolicyDocument"
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=TRUST)
    err = error(iam, "UpdateAssumeRolePolicy", RoleName="r", PolicyDocument=PERMS)
    assert err.code == "MalformedPolicyDocument"


def test_trust_policy_size_limit(iam: Call) -> None:
    statements = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/user-number-{i}"},
            "Action": "sts:AssumeRole",
        }
        for i in range(40)
    ]
    big = json.dumps({"Version": "2012-10-17", "Statement": statements})
    err = error(iam, "CreateRole", RoleName="big", AssumeRolePolicyDocument=big)
    assert (err.code, err.status) == ("LimitExceeded", 409)


@pytest.mark.parametrize("seconds", [3599, 43201])
def test_max_session_duration_bounds(iam: Call, seconds: int) -> None:
    err = error(
        iam, "CreateRole", RoleName="r", AssumeRolePolicyDocument=TRUST, MaxSessionDuration=seconds
    )
    assert err.code == "ValidationError"


def test_update_role(iam: Call) -> None:
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam("UpdateRole", RoleName="r", MaxSessionDuration=43200, Description="new")
    got = iam("GetRole", RoleName="r")["Role"]
    assert (got["MaxSessionDuration"], got["Description"]) == (43200, "new")
    assert error(iam, "UpdateRole", RoleName="r", MaxSessionDuration=100).code == "ValidationError"
    assert error(iam, "UpdateRole", RoleName="nope").code == "NoSuchEntity"


def test_update_assume_role_policy(iam: Call) -> None:
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=TRUST)
    new = TRUST.replace(":root", ":user/admin")
    iam("UpdateAssumeRolePolicy", RoleName="r", PolicyDocument=new)
    got = iam("GetRole", RoleName="r")["Role"]
    assert unquote(got["AssumeRolePolicyDocument"]) == new


def test_delete_role_requires_policies_gone(iam: Call) -> None:
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=TRUST)
    assert error(iam, "CreateRole", RoleName="R", AssumeRolePolicyDocument=TRUST).code == (
        "EntityAlreadyExists"
    )
    iam("PutRolePolicy", RoleName="r", PolicyName="p", PolicyDocument=PERMS)
    iam("AttachRolePolicy", RoleName="r", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert error(iam, "DeleteRole", RoleName="r").code == "DeleteConflict"
    iam("DeleteRolePolicy", RoleName="r", PolicyName="p")
    assert error(iam, "DeleteRole", RoleName="r").code == "DeleteConflict"
    iam("DetachRolePolicy", RoleName="r", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam("DeleteRole", RoleName="r")
    assert error(iam, "GetRole", RoleName="r").code == "NoSuchEntity"


def test_role_tags_and_boundary(iam: Call) -> None:
    boundary = "arn:aws:iam::aws:policy/PowerUserAccess"
    iam("CreateRole", RoleName="r", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=boundary)
    assert iam("GetRole", RoleName="r")["Role"]["PermissionsBoundary"][
        "PermissionsBoundaryArn"
    ] == (boundary)
    iam("TagRole", RoleName="r", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam("UntagRole", RoleName="r", TagKeys=["a"])
    assert iam("ListRoleTags", RoleName="r")["Tags"] == [{"Key": "b", "Value": "2"}]
    iam("DeleteRolePermissionsBoundary", RoleName="r")
    assert "PermissionsBoundary" not in iam("GetRole", RoleName="r")["Role"]
    iam("PutRolePermissionsBoundary", RoleName="r", PermissionsBoundary=boundary)
    iam("DeleteRole", RoleName="r")
    assert iam("GetPolicy", PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"] == 0


def test_resource_tags_reach_the_authorizer(iam: Call, env: ServiceEnv) -> None:
    iam(
        "CreateRole",
        RoleName="r",
        AssumeRolePolicyDocument=TRUST,
        Tags=[{"Key": "t", "Value": "x"}],
    )
    iam("GetRole", RoleName="r")
    assert env.authorizer.last("iam:GetRole").conditions["aws:ResourceTag/t"] == "x"
