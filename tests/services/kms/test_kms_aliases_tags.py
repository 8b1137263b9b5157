"""Aliases (including AWS managed keys) and tags."""

from __future__ import annotations

import json

from tests.services.kms.kms_support import KmsEnv, allow
from tests.support.fake_platform import ACCOUNT


def test_alias_lifecycle(kms: KmsEnv) -> None:
    a = kms.key()["KeyId"]
    b = kms.key()["KeyId"]
    kms.call("CreateAlias", AliasName="alias/app", TargetKeyId=a)
    err = kms.error("CreateAlias", AliasName="alias/app", TargetKeyId=b)
    assert err.code == "AlreadyExistsException"
    listed = kms.call("ListAliases")["Aliases"]
    assert [(x["AliasName"], x["TargetKeyId"]) for x in listed] == [("alias/app", a)]
    assert listed[0]["AliasArn"] == f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/app"
    blob = kms.call("Encrypt", KeyId="alias/app", Plaintext=b"x")["CiphertextBlob"]
    # UpdateAlias re-points the alias (manual rotation); old ciphertexts still decrypt.
    kms.call("UpdateAlias", AliasName="alias/app", TargetKeyId=b)
    assert kms.call("Encrypt", KeyId="alias/app", Plaintext=b"x")["KeyId"].endswith(b)
    assert kms.call("Decrypt", CiphertextBlob=blob)["KeyId"].endswith(a)
    assert kms.call("ListAliases", KeyId=a)["Aliases"] == []
    assert [x["AliasName"] for x in kms.call("ListAliases", KeyId=b)["Aliases"]] == ["alias/app"]
    kms.call("DeleteAlias", AliasName="alias/app")
    assert kms.error("DeleteAlias", AliasName="alias/app").code == "NotFoundException"
    assert kms.error("Encrypt", KeyId="alias/app", Plaintext=b"x").code == "NotFoundException"


def test_alias_name_rules(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    assert kms.error("CreateAlias", AliasName="app", TargetKeyId=key_id).code == (
        "ValidationException"
    )
    assert kms.error("CreateAlias", AliasName="alias/bad name", TargetKeyId=key_id).code == (
        "InvalidAliasNameException"
    )
    for op in ("CreateAlias", "UpdateAlias"):
        err = kms.error(op, AliasName="alias/aws/mine", TargetKeyId=key_id)
        assert err.code == "NotAuthorizedException"
    assert kms.error("DeleteAlias", AliasName="alias/aws/ssm").code == "NotAuthorizedException"
    err = kms.error("CreateAlias", AliasName="alias/x", TargetKeyId="alias/other")
    assert err.code == "NotFoundException"
    kms.call("ScheduleKeyDeletion", KeyId=key_id)
    err = kms.error("CreateAlias", AliasName="alias/late", TargetKeyId=key_id)
    assert err.code == "KMSInvalidStateException"


def test_update_alias_needs_the_same_kind_of_key(kms: KmsEnv) -> None:
    sym = kms.key()["KeyId"]
    mac = kms.key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyId"]
    kms.call("CreateAlias", AliasName="alias/a", TargetKeyId=sym)
    err = kms.error("UpdateAlias", AliasName="alias/a", TargetKeyId=mac)
    assert err.code == "ValidationException"
    err = kms.error("UpdateAlias", AliasName="alias/missing", TargetKeyId=sym)
    assert err.code == "NotFoundException"


def test_alias_needs_permission_on_alias_and_key(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    only_alias = kms.user(
        "al", allow("kms:CreateAlias", f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/*")
    )
    err = kms.error("CreateAlias", AliasName="alias/x", TargetKeyId=key_id, principal=only_alias)
    assert err.code == "AccessDeniedException" and "key/" in err.message
    both = kms.user("bo", allow("kms:CreateAlias"))
    kms.call("CreateAlias", AliasName="alias/x", TargetKeyId=key_id, principal=both)


def test_aws_managed_key_created_on_first_use(kms: KmsEnv) -> None:
    record = kms.kms.aws_managed_key(ACCOUNT, "us-east-1", "secretsmanager")
    again = kms.kms.aws_managed_key(ACCOUNT, "us-east-1", "secretsmanager")
    assert record.key_id == again.key_id
    md = kms.call("DescribeKey", KeyId="alias/aws/secretsmanager")["KeyMetadata"]
    assert md["KeyId"] == record.key_id and md["KeyManager"] == "AWS"
    policy = json.loads(kms.call("GetKeyPolicy", KeyId=record.key_id)["Policy"])
    via = policy["Statement"][0]["Condition"]["StringEquals"]
    assert via == {
        "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com",
        "kms:CallerAccount": ACCOUNT,
    }
    status = kms.call("GetKeyRotationStatus", KeyId=record.key_id)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 365
    # AWS managed keys cannot be managed by the account.
    assert kms.error("DisableKey", KeyId=record.key_id).code == "AccessDeniedException"
    assert kms.error("CreateAlias", AliasName="alias/mine", TargetKeyId=record.key_id).code == (
        "ValidationException"
    )
    # DescribeKey on a predefined alias creates that service's key.
    ebs = kms.call("DescribeKey", KeyId="alias/aws/ebs")["KeyMetadata"]
    assert ebs["KeyManager"] == "AWS"
    names = {a["AliasName"] for a in kms.call("ListAliases")["Aliases"]}
    assert names == {"alias/aws/secretsmanager", "alias/aws/ebs"}


def test_tags(kms: KmsEnv) -> None:
    key_id = kms.key(Tags=[{"TagKey": "a", "TagValue": "1"}])["KeyId"]
    kms.call(
        "TagResource",
        KeyId=key_id,
        Tags=[{"TagKey": "b", "TagValue": "2"}, {"TagKey": "a", "TagValue": "9"}],
    )
    tags = kms.call("ListResourceTags", KeyId=key_id)
    assert tags == {
        "Tags": [{"TagKey": "a", "TagValue": "9"}, {"TagKey": "b", "TagValue": "2"}],
        "Truncated": False,
    }
    page = kms.call("ListResourceTags", KeyId=key_id, Limit=1)
    assert page["Truncated"] is True and page["Tags"] == [{"TagKey": "a", "TagValue": "9"}]
    rest = kms.call("ListResourceTags", KeyId=key_id, Limit=1, Marker=page["NextMarker"])
    assert rest["Tags"] == [{"TagKey": "b", "TagValue": "2"}] and rest["Truncated"] is False
    kms.call("UntagResource", KeyId=key_id, TagKeys=["a", "missing"])
    assert kms.call("ListResourceTags", KeyId=key_id)["Tags"] == [{"TagKey": "b", "TagValue": "2"}]


def test_tag_errors(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    err = kms.error("TagResource", KeyId=key_id, Tags=[{"TagKey": "aws:x", "TagValue": "1"}])
    assert err.code == "TagException"
    dup = [{"TagKey": "k", "TagValue": "1"}, {"TagKey": "k", "TagValue": "2"}]
    assert kms.error("TagResource", KeyId=key_id, Tags=dup).code == "TagException"
    many = [{"TagKey": f"k{i}", "TagValue": "v"} for i in range(51)]
    assert kms.error("TagResource", KeyId=key_id, Tags=many).code == "LimitExceededException"
    assert kms.error("CreateKey", Tags=[{"TagKey": "aws:x", "TagValue": "1"}]).code == (
        "TagException"
    )
    assert kms.error("ListResourceTags", KeyId=key_id, Marker="zz").code == (
        "InvalidMarkerException"
    )
    kms.call("ScheduleKeyDeletion", KeyId=key_id)
    err = kms.error("TagResource", KeyId=key_id, Tags=[{"TagKey": "k", "TagValue": "1"}])
    assert err.code == "KMSInvalidStateException"


def test_tag_permissions_use_request_tags(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    tagger = kms.user(
        "tagger",
        allow(
            "kms:TagResource",
            Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}},
        ),
    )
    kms.call(
        "TagResource", KeyId=key_id, Tags=[{"TagKey": "team", "TagValue": "x"}], principal=tagger
    )
    err = kms.error(
        "TagResource", KeyId=key_id, Tags=[{"TagKey": "cost", "TagValue": "x"}], principal=tagger
    )
    assert err.code == "AccessDeniedException"
