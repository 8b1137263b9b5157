"""IAM and STS end to end: users, groups, roles, policies, sessions, accounts."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support.live_server import LiveServer


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str | list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _deny(action: str | list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _new_user(server: LiveServer, name: str | None = None) -> tuple[str, Any]:
    iam = server.client("iam")
    name = name or _unique("user")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, key


def test_user_without_policies_is_denied_then_allowed(server: LiveServer) -> None:
    admin = server.client("iam")
    name, key = _new_user(server)
    user_iam = server.client("iam", key)
    ident = server.client("sts", key).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::000000000000:user/{name}"
    with pytest.raises(ClientError) as exc:
        user_iam.list_users()
    assert _code(exc) == "AccessDenied"
    assert "iam:ListUsers" in exc.value.response["Error"]["Message"]
    admin.put_user_policy(
        UserName=name, PolicyName="list", PolicyDocument=_doc(_allow("iam:ListUsers"))
    )
    users = {u["UserName"] for u in user_iam.list_users()["Users"]}
    assert name in users


def test_explicit_deny_beats_allow(server: LiveServer) -> None:
    admin = server.client("iam")
    name, key = _new_user(server)
    admin.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=_doc(_allow("iam:*")))
    admin.put_user_policy(
        UserName=name, PolicyName="no-delete", PolicyDocument=_doc(_deny("iam:DeleteUser"))
    )
    user_iam = server.client("iam", key)
    user_iam.create_user(UserName=f"{name}-child")
    with pytest.raises(ClientError) as exc:
        user_iam.delete_user(UserName=f"{name}-child")
    assert _code(exc) == "AccessDenied"
    assert "explicit deny" in exc.value.response["Error"]["Message"]


def test_group_and_managed_policy(server: LiveServer) -> None:
    admin = server.client("iam")
    name, key = _new_user(server)
    group = _unique("readers")
    admin.create_group(GroupName=group)
    admin.add_user_to_group(GroupName=group, UserName=name)
    arn = admin.create_policy(
        PolicyName=_unique("read"), PolicyDocument=_doc(_allow(["iam:Get*", "iam:List*"]))
    )["Policy"]["Arn"]
    user_iam = server.client("iam", key)
    with pytest.raises(ClientError):
        user_iam.list_groups()
    admin.attach_group_policy(GroupName=group, PolicyArn=arn)
    assert any(g["GroupName"] == group for g in user_iam.list_groups()["Groups"])
    # A new default version that no longer allows List* takes effect.
    admin.create_policy_version(
        PolicyArn=arn, PolicyDocument=_doc(_allow("iam:Get*")), SetAsDefault=True
    )
    with pytest.raises(ClientError) as exc:
        user_iam.list_groups()
    assert _code(exc) == "AccessDenied"
    versions = admin.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["IsDefaultVersion"] for v in sorted(versions, key=lambda v: v["VersionId"])] == [
        False,
        True,
    ]


def test_assume_role_with_trust_policy(server: LiveServer) -> None:
    admin = server.client("iam")
    alice, alice_key = _new_user(server)
    _, bob_key = _new_user(server)
    role = _unique("deployer")
    trust = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::000000000000:user/{alice}"},
            "Action": "sts:AssumeRole",
        }
    )
    role_arn = admin.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    admin.put_role_policy(
        RoleName=role, PolicyName="p", PolicyDocument=_doc(_allow("iam:ListRoles"))
    )

    creds = server.client("sts", alice_key).assume_role(RoleArn=role_arn, RoleSessionName="s1")[
        "Credentials"
    ]
    assert creds["AccessKeyId"].startswith("ASIA")
    ident = server.client("sts", creds).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::000000000000:assumed-role/{role}/s1"
    assert ident["UserId"].endswith(":s1")
    assert server.client("iam", creds).list_roles()["Roles"]
    with pytest.raises(ClientError) as exc:
        server.client("iam", creds).list_users()
    assert _code(exc) == "AccessDenied"

    with pytest.raises(ClientError) as exc:
        server.client("sts", bob_key).assume_role(RoleArn=role_arn, RoleSessionName="s2")
    assert _code(exc) == "AccessDenied"


def test_session_credentials_need_their_token(server: LiveServer) -> None:
    _, key = _new_user(server)
    creds = server.client("sts", key).get_session_token(DurationSeconds=900)["Credentials"]
    assert server.client("sts", creds).get_caller_identity()["Account"] == "000000000000"
    wrong = {**creds, "SessionToken": creds["SessionToken"][:-4] + "AAAA"}
    with pytest.raises(ClientError) as exc:
        server.client("sts", wrong).get_caller_identity()
    assert _code(exc) == "InvalidClientTokenId"
    no_token = {"AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"]}
    with pytest.raises(ClientError) as exc:
        server.client("sts", no_token).get_caller_identity()
    assert _code(exc) == "InvalidClientTokenId"


def test_session_policy_caps_role_permissions(server: LiveServer) -> None:
    admin = server.client("iam")
    role = _unique("wide")
    trust = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
            "Action": "sts:AssumeRole",
        }
    )
    role_arn = admin.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    admin.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=_doc(_allow("iam:List*")))
    creds = server.client("sts").assume_role(
        RoleArn=role_arn, RoleSessionName="narrow", Policy=_doc(_allow("iam:ListRoles"))
    )["Credentials"]
    scoped = server.client("iam", creds)
    scoped.list_roles()
    with pytest.raises(ClientError) as exc:
        scoped.list_users()
    assert _code(exc) == "AccessDenied"


def test_permissions_boundary_caps_user(server: LiveServer) -> None:
    admin = server.client("iam")
    name, key = _new_user(server)
    boundary = admin.create_policy(
        PolicyName=_unique("boundary"), PolicyDocument=_doc(_allow("iam:ListUsers"))
    )["Policy"]["Arn"]
    admin.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=_doc(_allow("iam:List*")))
    admin.put_user_permissions_boundary(UserName=name, PermissionsBoundary=boundary)
    user_iam = server.client("iam", key)
    user_iam.list_users()
    with pytest.raises(ClientError) as exc:
        user_iam.list_groups()
    assert _code(exc) == "AccessDenied"


def test_deactivated_key_stops_working(server: LiveServer) -> None:
    name, key = _new_user(server)
    sts = server.client("sts", key)
    sts.get_caller_identity()
    server.client("iam").update_access_key(
        UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive"
    )
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert _code(exc) == "InvalidClientTokenId"


def test_errors_are_aws_shaped(server: LiveServer) -> None:
    iam = server.client("iam")
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName=_unique("ghost"))
    assert _code(exc) == "NoSuchEntity"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    name = _unique("dup")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName=name)
    assert _code(exc) == "EntityAlreadyExists"
    with pytest.raises(ClientError) as exc:
        iam.put_user_policy(UserName=name, PolicyName="bad", PolicyDocument='{"Statement": "nope"}')
    assert _code(exc) == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName="bad name with spaces!")
    assert _code(exc) == "ValidationError"


def test_cross_account_role(server: LiveServer) -> None:
    """Account B's user assumes a role in account A only when both sides allow it."""
    out = subprocess.run(
        [
            str(Path(sys.executable).with_name("strongroom")),
            "accounts",
            "create",
            _unique("acct-b"),
            "--data-dir",
            str(server.data_dir),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    b = json.loads(out.stdout)[0]
    b_admin_iam = server.client("iam", (b["AccessKeyId"], b["SecretAccessKey"]))
    b_user = _unique("b-user")
    b_admin_iam.create_user(UserName=b_user)
    b_key = b_admin_iam.create_access_key(UserName=b_user)["AccessKey"]

    a_iam = server.client("iam")
    role = _unique("shared")
    trust = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{b['AccountId']}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    role_arn = a_iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]

    b_sts = server.client("sts", b_key)
    with pytest.raises(ClientError) as exc:  # trust allows B, but B's identity policy does not
        b_sts.assume_role(RoleArn=role_arn, RoleSessionName="xx")
    assert _code(exc) == "AccessDenied"
    b_admin_iam.put_user_policy(
        UserName=b_user,
        PolicyName="assume",
        PolicyDocument=_doc(_allow("sts:AssumeRole", role_arn)),
    )
    creds = b_sts.assume_role(RoleArn=role_arn, RoleSessionName="xx")["Credentials"]
    assert server.client("sts", creds).get_caller_identity()["Account"] == "000000000000"

    a_iam.update_assume_role_policy(
        RoleName=role,
        PolicyDocument=_doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                "Action": "sts:AssumeRole",
            }
        ),
    )
    with pytest.raises(ClientError) as exc:  # B's identity allows, trust no longer does
        b_sts.assume_role(RoleArn=role_arn, RoleSessionName="yy")
    assert _code(exc) == "AccessDenied"


def test_simulate_principal_policy(server: LiveServer) -> None:
    admin = server.client("iam")
    name, _ = _new_user(server)
    admin.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_doc(_allow("iam:GetUser")))
    result = admin.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::000000000000:user/{name}",
        ActionNames=["iam:GetUser", "iam:DeleteUser"],
    )["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in result}
    assert decisions == {"iam:GetUser": "allowed", "iam:DeleteUser": "implicitDeny"}


def test_aws_cli_creates_user(server: LiveServer, tmp_path: Path) -> None:
    import os

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_SHARED_CREDENTIALS_FILE": str(server.data_dir / "admin-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    aws = [
        str(Path(sys.executable).with_name("aws")),
        "--profile",
        "strongroom",
        "--endpoint-url",
        server.endpoint,
    ]
    name = _unique("cli")
    created = subprocess.run(
        [*aws, "iam", "create-user", "--user-name", name],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert json.loads(created.stdout)["User"]["UserName"] == name
    failed = subprocess.run(
        [*aws, "iam", "get-user", "--user-name", _unique("nobody")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert failed.returncode != 0
    assert "NoSuchEntity" in failed.stderr


def test_access_key_last_used_is_recorded(server: LiveServer) -> None:
    name, key = _new_user(server)
    iam = server.client("iam")
    before = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert before["ServiceName"] == "N/A"
    server.client("sts", key).get_caller_identity()
    after = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert after["UserName"] == name
    assert after["AccessKeyLastUsed"]["ServiceName"] == "sts"
    assert after["AccessKeyLastUsed"]["Region"] == "us-east-1"
