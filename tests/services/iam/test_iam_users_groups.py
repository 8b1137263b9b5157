"""IAM users, groups and membership."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.support.fake_platform import ACCOUNT, ServiceEnv

from strongroom.errors import ServiceError

Call = Callable[..., dict[str, Any]]


def error(call: Call, operation: str, **params: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        call(operation, **params)
    return info.value


def test_create_get_user(iam: Call, env: ServiceEnv) -> None:
    out = iam("CreateUser", UserName="alice", Path="/eng/", Tags=[{"Key": "team", "Value": "x"}])
    user = out["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/eng/alice"
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 20
    assert user["Tags"] == [{"Key": "team", "Value": "x"}]
    call = env.authorizer.last("iam:CreateUser")
    assert call.resource == f"arn:aws:iam::{ACCOUNT}:user/eng/alice"
    assert call.conditions["aws:RequestTag/team"] == "x"
    assert "iam:TagUser" in env.authorizer.actions()
    got = iam("GetUser", UserName="ALICE")["User"]
    assert got["UserName"] == "alice" and got["Path"] == "/eng/"
    assert env.authorizer.last("iam:GetUser").resource.endswith(":user/eng/alice")


def test_user_names_conflict_case_insensitively(iam: Call) -> None:
    iam("CreateUser", UserName="Bob")
    err = error(iam, "CreateUser", UserName="bob")
    assert (err.code, err.status) == ("EntityAlreadyExists", 409)


def test_invalid_user_name_is_validation_error(iam: Call) -> None:
    err = error(iam, "CreateUser", UserName="no spaces!")
    assert (err.code, err.status) == ("ValidationError", 400)
    err = error(iam, "CreateUser", UserName="ok", Path="no-slashes")
    assert err.code == "ValidationError"


def test_get_user_without_name_is_the_caller(iam: Call) -> None:
    assert iam("GetUser")["User"]["UserName"] == "admin"


def test_get_missing_user(iam: Call, env: ServiceEnv) -> None:
    err = error(iam, "GetUser", UserName="ghost")
    assert (err.code, err.status) == ("NoSuchEntity", 404)


def test_access_denied_before_existence_is_revealed(iam: Call, env: ServiceEnv) -> None:
    env.authorizer.denied_actions.add("iam:GetUser")
    err = error(iam, "GetUser", UserName="ghost")
    assert (err.code, err.status) == ("AccessDenied", 403)


def test_list_users_paginates(iam: Call) -> None:
    for name in ["u1", "u2", "u3", "u4"]:
        iam("CreateUser", UserName=name, Path="/p/")
    first = iam("ListUsers", PathPrefix="/p/", MaxItems=3)
    assert [u["UserName"] for u in first["Users"]] == ["u1", "u2", "u3"]
    assert first["IsTruncated"] is True
    second = iam("ListUsers", PathPrefix="/p/", MaxItems=3, Marker=first["Marker"])
    assert [u["UserName"] for u in second["Users"]] == ["u4"]
    assert second["IsTruncated"] is False and "Marker" not in second
    everyone = iam("ListUsers")["Users"]
    assert {u["UserName"] for u in everyone} == {"admin", "u1", "u2", "u3", "u4"}
    assert all("Tags" not in u for u in everyone)


def test_update_user_renames_and_keeps_keys_and_groups(iam: Call, env: ServiceEnv) -> None:
    iam("CreateUser", UserName="old")
    iam("CreateGroup", GroupName="g")
    iam("AddUserToGroup", GroupName="g", UserName="old")
    key = iam("CreateAccessKey", UserName="old")["AccessKey"]
    iam("AttachUserPolicy", UserName="old", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam("UpdateUser", UserName="old", NewUserName="new", NewPath="/moved/")
    assert error(iam, "GetUser", UserName="old").code == "NoSuchEntity"
    assert iam("GetUser", UserName="new")["User"]["Path"] == "/moved/"
    assert [
        k["AccessKeyId"] for k in iam("ListAccessKeys", UserName="new")["AccessKeyMetadata"]
    ] == [key["AccessKeyId"]]
    assert [u["UserName"] for u in iam("GetGroup", GroupName="g")["Users"]] == ["new"]
    principal = env.principal(key["AccessKeyId"])
    assert principal.arn == f"arn:aws:iam::{ACCOUNT}:user/moved/new"
    entities = iam("ListEntitiesForPolicy", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert [u["UserName"] for u in entities["PolicyUsers"]] == ["new"]


def test_update_user_to_existing_name_conflicts(iam: Call) -> None:
    iam("CreateUser", UserName="a")
    iam("CreateUser", UserName="b")
    assert error(iam, "UpdateUser", UserName="a", NewUserName="B").code == "EntityAlreadyExists"


def test_delete_user_conflicts_then_succeeds(iam: Call) -> None:
    iam("CreateUser", UserName="carol")
    key = iam("CreateAccessKey", UserName="carol")["AccessKey"]["AccessKeyId"]
    err = error(iam, "DeleteUser", UserName="carol")
    assert (err.code, err.status) == ("DeleteConflict", 409)
    iam("DeleteAccessKey", UserName="carol", AccessKeyId=key)
    iam("PutUserPolicy", UserName="carol", PolicyName="p", PolicyDocument=_doc())
    assert error(iam, "DeleteUser", UserName="carol").code == "DeleteConflict"
    iam("DeleteUserPolicy", UserName="carol", PolicyName="p")
    iam("CreateGroup", GroupName="g")
    iam("AddUserToGroup", GroupName="g", UserName="carol")
    assert error(iam, "DeleteUser", UserName="carol").code == "DeleteConflict"
    iam("RemoveUserFromGroup", GroupName="g", UserName="carol")
    iam("DeleteUser", UserName="carol")
    assert error(iam, "GetUser", UserName="carol").code == "NoSuchEntity"
    assert error(iam, "DeleteUser", UserName="carol").code == "NoSuchEntity"


def test_user_tags(iam: Call) -> None:
    iam("CreateUser", UserName="t", Tags=[{"Key": "Env", "Value": "dev"}])
    iam("TagUser", UserName="t", Tags=[{"Key": "env", "Value": "prod"}, {"Key": "a", "Value": ""}])
    tags = iam("ListUserTags", UserName="t")["Tags"]
    assert tags == [{"Key": "env", "Value": "prod"}, {"Key": "a", "Value": ""}]
    iam("UntagUser", UserName="t", TagKeys=["ENV"])
    assert iam("ListUserTags", UserName="t")["Tags"] == [{"Key": "a", "Value": ""}]
    err = error(
        iam, "TagUser", UserName="t", Tags=[{"Key": "x", "Value": "1"}, {"Key": "X", "Value": "2"}]
    )
    assert err.code == "InvalidInput"
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    assert error(iam, "TagUser", UserName="t", Tags=many).code == "LimitExceeded"


def test_user_permissions_boundary(iam: Call, env: ServiceEnv) -> None:
    arn = "arn:aws:iam::aws:policy/PowerUserAccess"
    iam("CreateUser", UserName="b", PermissionsBoundary=arn)
    got = iam("GetUser", UserName="b")["User"]
    assert got["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": arn,
    }
    assert iam("GetPolicy", PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    iam("DeleteUserPermissionsBoundary", UserName="b")
    assert "PermissionsBoundary" not in iam("GetUser", UserName="b")["User"]
    iam("PutUserPermissionsBoundary", UserName="b", PermissionsBoundary=arn)
    call = env.authorizer.last("iam:PutUserPermissionsBoundary")
    assert call.conditions["iam:PermissionsBoundary"] == arn
    missing = f"arn:aws:iam::{ACCOUNT}:policy/nope"
    err = error(iam, "PutUserPermissionsBoundary", UserName="b", PermissionsBoundary=missing)
    assert err.code == "NoSuchEntity"


def _doc(action: str = "s3:GetObject") -> str:
    return (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"'
        + action
        + '","Resource":"*"}]}'
    )


# -- groups ------------------------------------------------------------------


def test_group_lifecycle(iam: Call, env: ServiceEnv) -> None:
    group = iam("CreateGroup", GroupName="Devs", Path="/teams/")["Group"]
    assert group["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/teams/Devs"
    assert group["GroupId"].startswith("AGPA")
    assert error(iam, "CreateGroup", GroupName="devs").code == "EntityAlreadyExists"
    iam("CreateUser", UserName="u")
    iam("AddUserToGroup", GroupName="devs", UserName="u")
    iam("AddUserToGroup", GroupName="devs", UserName="u")  # idempotent
    assert env.authorizer.last("iam:AddUserToGroup").resource.endswith(":group/teams/Devs")
    got = iam("GetGroup", GroupName="Devs")
    assert [u["UserName"] for u in got["Users"]] == ["u"]
    assert [g["GroupName"] for g in iam("ListGroupsForUser", UserName="u")["Groups"]] == ["Devs"]
    assert error(iam, "DeleteGroup", GroupName="Devs").code == "DeleteConflict"
    iam("RemoveUserFromGroup", GroupName="Devs", UserName="u")
    assert error(iam, "RemoveUserFromGroup", GroupName="Devs", UserName="u").code == "NoSuchEntity"
    iam("UpdateGroup", GroupName="Devs", NewGroupName="Ops")
    assert [g["GroupName"] for g in iam("ListGroups")["Groups"]] == ["Ops"]
    iam("DeleteGroup", GroupName="ops")
    assert iam("ListGroups")["Groups"] == []


def test_group_rename_updates_members(iam: Call, env: ServiceEnv) -> None:
    iam("CreateGroup", GroupName="g1")
    iam("CreateUser", UserName="m")
    iam("AddUserToGroup", GroupName="g1", UserName="m")
    iam("PutGroupPolicy", GroupName="g1", PolicyName="gp", PolicyDocument=_doc())
    iam("UpdateGroup", GroupName="g1", NewGroupName="g2")
    assert [g["GroupName"] for g in iam("ListGroupsForUser", UserName="m")["Groups"]] == ["g2"]
    key = iam("CreateAccessKey", UserName="m")["AccessKey"]["AccessKeyId"]
    labels = [label for label, _ in env.identities.policies_for(env.principal(key)).identity]
    assert labels == ["group/g2/gp"]


def test_add_missing_user_to_group(iam: Call) -> None:
    iam("CreateGroup", GroupName="g")
    assert error(iam, "AddUserToGroup", GroupName="g", UserName="nobody").code == "NoSuchEntity"
    assert error(iam, "AddUserToGroup", GroupName="nog", UserName="admin").code == "NoSuchEntity"


def test_groups_per_user_limit(iam: Call) -> None:
    iam("CreateUser", UserName="joiner")
    for i in range(10):
        iam("CreateGroup", GroupName=f"g{i}")
        iam("AddUserToGroup", GroupName=f"g{i}", UserName="joiner")
    iam("CreateGroup", GroupName="g10")
    err = error(iam, "AddUserToGroup", GroupName="g10", UserName="joiner")
    assert (err.code, err.status) == ("LimitExceeded", 409)


def test_get_group_paginates_members(iam: Call) -> None:
    iam("CreateGroup", GroupName="big")
    for i in range(5):
        iam("CreateUser", UserName=f"m{i}")
        iam("AddUserToGroup", GroupName="big", UserName=f"m{i}")
    first = iam("GetGroup", GroupName="big", MaxItems=2)
    assert [u["UserName"] for u in first["Users"]] == ["m0", "m1"] and first["IsTruncated"]
    rest = iam("GetGroup", GroupName="big", Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["m2", "m3", "m4"]
