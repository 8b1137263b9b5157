"""Key policies, IAM policies, cross-account access and KMS condition keys."""

from __future__ import annotations

from typing import Any

from tests.services.kms.kms_support import KmsEnv, allow, key_policy, root_statement
from tests.support.fake_platform import ACCOUNT, OTHER_ACCOUNT


def _user_statement(arn: str, actions: Any, **extra: Any) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": arn},
        "Action": actions,
        "Resource": "*",
        **extra,
    }


def test_iam_policy_counts_only_when_the_key_policy_delegates(kms: KmsEnv) -> None:
    alice = kms.user("alice", allow("kms:Encrypt"))
    delegated = kms.key()["KeyId"]
    assert kms.call("Encrypt", KeyId=delegated, Plaintext=b"x", principal=alice)
    # A key policy that names only the admin user: alice's IAM policy is not enough.
    admin_only = key_policy(_user_statement(f"arn:aws:iam::{ACCOUNT}:user/admin", "kms:*"))
    closed = kms.key(Policy=admin_only)["KeyId"]
    err = kms.error("Encrypt", KeyId=closed, Plaintext=b"x", principal=alice)
    assert err.code == "AccessDeniedException"
    assert f"arn:aws:iam::{ACCOUNT}:user/alice" in err.message
    assert "kms:Encrypt" in err.message and closed in err.message


def test_key_policy_alone_can_allow_a_user(kms: KmsEnv) -> None:
    bob = kms.user("bob")  # no IAM policy at all
    policy = key_policy(
        root_statement(), _user_statement(f"arn:aws:iam::{ACCOUNT}:user/bob", "kms:Encrypt")
    )
    key_id = kms.key(Policy=policy)["KeyId"]
    assert kms.call("Encrypt", KeyId=key_id, Plaintext=b"x", principal=bob)
    assert kms.error("DescribeKey", KeyId=key_id, principal=bob).code == "AccessDeniedException"


def test_explicit_deny_in_iam_wins(kms: KmsEnv) -> None:
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"},
        ],
    }
    carol = kms.user("carol", deny)
    key_id = kms.key()["KeyId"]
    blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"x", principal=carol)["CiphertextBlob"]
    err = kms.error("Decrypt", CiphertextBlob=blob, principal=carol)
    assert err.code == "AccessDeniedException" and "explicit deny" in err.message


def test_cross_account_needs_key_policy_and_iam(kms: KmsEnv) -> None:
    grant_b = _user_statement(
        f"arn:aws:iam::{OTHER_ACCOUNT}:root",
        ["kms:Decrypt", "kms:DescribeKey"],
        Condition={"StringEquals": {"kms:CallerAccount": OTHER_ACCOUNT}},
    )
    key = kms.key(Policy=key_policy(root_statement(), grant_b))
    blob = kms.call("Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    with_iam = kms.other_user("dave", allow("kms:Decrypt", key["Arn"]))
    without_iam = kms.other_user("erin")
    assert kms.call("Decrypt", CiphertextBlob=blob, principal=with_iam)["Plaintext"] == b"x"
    err = kms.error("Decrypt", CiphertextBlob=blob, principal=without_iam)
    assert err.code == "AccessDeniedException" and "kms:Decrypt" in err.message
    # The key policy does not allow Encrypt to account B.
    err = kms.error("Encrypt", KeyId=key["Arn"], Plaintext=b"x", principal=with_iam)
    assert err.code == "AccessDeniedException"
    # Only ARNs reach another account's key; a bare key id means "my account".
    err = kms.error("DescribeKey", KeyId=key["KeyId"], principal=kms.other_admin)
    assert err.code == "NotFoundException"


def test_cross_account_without_key_policy_statement(kms: KmsEnv) -> None:
    key = kms.key()  # default policy: account A only
    blob = kms.call("Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    user = kms.other_user("frank", allow("kms:*"))
    err = kms.error("Decrypt", CiphertextBlob=blob, principal=user)
    assert err.code == "AccessDeniedException"
    assert f"arn:aws:iam::{OTHER_ACCOUNT}:user/frank" in err.message


def test_encryption_context_conditions(kms: KmsEnv) -> None:
    statement = _user_statement(
        f"arn:aws:iam::{ACCOUNT}:user/gina",
        ["kms:Encrypt", "kms:Decrypt"],
        Condition={"StringEquals": {"kms:EncryptionContext:tenant": "t1"}},
    )
    key_id = kms.key(Policy=key_policy(root_statement(), statement))["KeyId"]
    gina = kms.user("gina")
    ok = kms.call(
        "Encrypt", KeyId=key_id, Plaintext=b"x", EncryptionContext={"tenant": "t1"}, principal=gina
    )
    assert ok["CiphertextBlob"]
    for context in ({"tenant": "t2"}, {}):
        err = kms.error(
            "Encrypt", KeyId=key_id, Plaintext=b"x", EncryptionContext=context, principal=gina
        )
        assert err.code == "AccessDeniedException"


def test_encryption_context_keys_condition(kms: KmsEnv) -> None:
    statement = _user_statement(
        f"arn:aws:iam::{ACCOUNT}:user/hal",
        "kms:Encrypt",
        Condition={"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["a", "b"]}},
    )
    key_id = kms.key(Policy=key_policy(root_statement(), statement))["KeyId"]
    hal = kms.user("hal")
    kms.call("Encrypt", KeyId=key_id, Plaintext=b"x", EncryptionContext={"a": "1"}, principal=hal)
    err = kms.error(
        "Encrypt", KeyId=key_id, Plaintext=b"x", EncryptionContext={"c": "1"}, principal=hal
    )
    assert err.code == "AccessDeniedException"


def test_key_spec_and_request_alias_conditions(kms: KmsEnv) -> None:
    ivan = kms.user(
        "ivan",
        allow(
            "kms:Encrypt",
            Condition={
                "StringEquals": {"kms:KeySpec": "SYMMETRIC_DEFAULT", "kms:RequestAlias": "alias/ok"}
            },
        ),
    )
    key_id = kms.key()["KeyId"]
    kms.call("CreateAlias", AliasName="alias/ok", TargetKeyId=key_id)
    kms.call("CreateAlias", AliasName="alias/other", TargetKeyId=key_id)
    assert kms.call("Encrypt", KeyId="alias/ok", Plaintext=b"x", principal=ivan)
    for ref in ("alias/other", key_id):
        err = kms.error("Encrypt", KeyId=ref, Plaintext=b"x", principal=ivan)
        assert err.code == "AccessDeniedException"


def test_resource_aliases_condition(kms: KmsEnv) -> None:
    jan = kms.user(
        "jan",
        allow(
            "kms:Encrypt",
            Condition={"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/team-*"}},
        ),
    )
    key_id = kms.key()["KeyId"]
    assert kms.error("Encrypt", KeyId=key_id, Plaintext=b"x", principal=jan).code == (
        "AccessDeniedException"
    )
    kms.call("CreateAlias", AliasName="alias/team-red", TargetKeyId=key_id)
    assert kms.call("Encrypt", KeyId=key_id, Plaintext=b"x", principal=jan)


def test_resource_tag_abac(kms: KmsEnv) -> None:
    kim = kms.user(
        "kim",
        allow("kms:Encrypt", Condition={"StringEquals": {"aws:ResourceTag/project": "blue"}}),
    )
    key_id = kms.key(Tags=[{"TagKey": "project", "TagValue": "red"}])["KeyId"]
    assert kms.error("Encrypt", KeyId=key_id, Plaintext=b"x", principal=kim).code == (
        "AccessDeniedException"
    )
    kms.call("TagResource", KeyId=key_id, Tags=[{"TagKey": "project", "TagValue": "blue"}])
    assert kms.call("Encrypt", KeyId=key_id, Plaintext=b"x", principal=kim)


def test_request_tags_condition_on_create_key(kms: KmsEnv) -> None:
    lee = kms.user(
        "lee",
        allow(
            ["kms:CreateKey", "kms:TagResource", "kms:PutKeyPolicy"],
            Condition={"StringEquals": {"aws:RequestTag/owner": "lee"}},
        ),
    )
    assert kms.call("CreateKey", Tags=[{"TagKey": "owner", "TagValue": "lee"}], principal=lee)
    err = kms.error("CreateKey", principal=lee)
    assert err.code == "AccessDeniedException" and "kms:CreateKey" in err.message


def test_via_service_condition(kms: KmsEnv) -> None:
    statement = _user_statement(
        f"arn:aws:iam::{ACCOUNT}:user/max",
        "kms:Encrypt",
        Condition={"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}},
    )
    key_id = kms.key(Policy=key_policy(root_statement(), statement))["KeyId"]
    mx = kms.user("max")
    assert kms.error("Encrypt", KeyId=key_id, Plaintext=b"x", principal=mx).code == (
        "AccessDeniedException"
    )
    out = kms.call(
        "Encrypt",
        KeyId=key_id,
        Plaintext=b"x",
        principal=mx,
        audit={"invokedBy": "ssm.amazonaws.com"},
    )
    assert out["CiphertextBlob"]


def test_call_as_service(kms: KmsEnv) -> None:
    from tests.support.fake_platform import make_ctx

    ctx = make_ctx(kms.platform, kms.admin, service="ssm", operation="PutParameter")
    record = kms.kms.aws_managed_key(ACCOUNT, "us-east-1", "ssm")
    out = kms.kms.call_as_service(
        ctx, "ssm", "Encrypt", {"KeyId": "alias/aws/ssm", "Plaintext": b"param"}
    )
    assert out["KeyId"] == record.arn
    # Called directly (not through SSM), the AWS managed key's policy does not allow Encrypt
    # for a user without IAM permissions.
    nobody = kms.user("nobody")
    err = kms.error("Encrypt", KeyId="alias/aws/ssm", Plaintext=b"x", principal=nobody)
    assert err.code == "AccessDeniedException"


def test_caller_account_condition(kms: KmsEnv) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "kms:Encrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}},
    }
    key_id = kms.key(Policy=key_policy(root_statement(), statement))["KeyId"]
    nina = kms.user("nina")
    assert kms.call("Encrypt", KeyId=key_id, Plaintext=b"x", principal=nina)


def test_list_keys_and_create_key_need_iam(kms: KmsEnv) -> None:
    nobody = kms.user("nobody")
    assert kms.error("ListKeys", principal=nobody).code == "AccessDeniedException"
    assert kms.error("CreateKey", principal=nobody).code == "AccessDeniedException"
    assert kms.error("GenerateRandom", NumberOfBytes=4, principal=nobody).code == (
        "AccessDeniedException"
    )


def test_audit_names_the_key_and_its_owner(kms: KmsEnv) -> None:
    from tests.support.fake_platform import make_ctx

    grant_b = _user_statement(f"arn:aws:iam::{OTHER_ACCOUNT}:root", "kms:Decrypt")
    key = kms.key(Policy=key_policy(root_statement(), grant_b))
    blob = kms.call("Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    user = kms.other_user("audited", allow("kms:Decrypt"))
    ctx = make_ctx(kms.platform, user, service="kms", operation="Decrypt")
    kms.kms.decrypt(ctx, {"CiphertextBlob": blob})
    assert ctx.audit["resources"] == [key["Arn"]]
    assert ctx.audit["resource_account"] == ACCOUNT
