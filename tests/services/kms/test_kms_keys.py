"""Key lifecycle: CreateKey, DescribeKey, ListKeys, Enable/Disable, deletion, description."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from tests.services.kms.kms_support import KmsEnv, key_policy, root_statement
from tests.support.fake_platform import ACCOUNT

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_create_key_defaults(kms: KmsEnv) -> None:
    md = kms.key(Description="first")
    assert UUID.match(md["KeyId"])
    assert md["Arn"] == f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{md['KeyId']}"
    assert md["AWSAccountId"] == ACCOUNT
    assert (md["KeySpec"], md["KeyUsage"], md["Origin"]) == (
        "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT",
        "AWS_KMS",
    )
    assert md["KeyState"] == "Enabled" and md["Enabled"] is True
    assert md["KeyManager"] == "CUSTOMER"
    assert md["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert md["Description"] == "first"
    assert md["MultiRegion"] is False
    assert re.fullmatch(r"[0-9a-f]{64}", md["CurrentKeyMaterialId"])
    assert md["CreationDate"] == kms.clock.now


def test_default_key_policy_delegates_to_the_account(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    policy = json.loads(kms.call("GetKeyPolicy", KeyId=key_id)["Policy"])
    assert policy["Statement"] == [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    assert kms.call("ListKeyPolicies", KeyId=key_id) == {
        "PolicyNames": ["default"],
        "Truncated": False,
    }


def test_create_key_rejects_bad_specs_and_custom_stores(kms: KmsEnv) -> None:
    err = kms.error("CreateKey", KeySpec="SYMMETRIC_DEFAULT", KeyUsage="SIGN_VERIFY")
    assert err.code == "ValidationException"
    err = kms.error("CreateKey", KeySpec="RSA_2048", CustomerMasterKeySpec="RSA_2048")
    assert err.code == "ValidationException"
    assert kms.error("CreateKey", KeySpec="SM2").code == "UnsupportedOperationException"
    err = kms.error("CreateKey", CustomKeyStoreId="cks-1234567890abcdef0")
    assert err.code == "CustomKeyStoreNotFoundException"
    assert kms.error("CreateKey", Origin="AWS_CLOUDHSM").code == "UnsupportedOperationException"


def test_create_key_with_malformed_policy(kms: KmsEnv) -> None:
    err = kms.error("CreateKey", Policy="{not json")
    assert err.code == "MalformedPolicyDocumentException"
    no_principal = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*"}]}
    )
    assert kms.error("CreateKey", Policy=no_principal).code == "MalformedPolicyDocumentException"


def test_lockout_safety_check(kms: KmsEnv) -> None:
    # A policy that does not let the caller (the admin user) call PutKeyPolicy again.
    locked = key_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/someone-else"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    err = kms.error("CreateKey", Policy=locked)
    assert err.code == "MalformedPolicyDocumentException"
    assert "will not allow you to update the key policy" in err.message
    md = kms.key(Policy=locked, BypassPolicyLockoutSafetyCheck=True)
    # ... and now even the admin is locked out of it.
    err = kms.error("DescribeKey", KeyId=md["KeyId"])
    assert err.code == "AccessDeniedException"


def test_put_key_policy(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    policy = key_policy(root_statement(), {**root_statement(), "Sid": "Second"})
    kms.call("PutKeyPolicy", KeyId=key_id, PolicyName="default", Policy=policy)
    assert kms.call("GetKeyPolicy", KeyId=key_id)["Policy"] == policy
    err = kms.error("PutKeyPolicy", KeyId=key_id, Policy="[]")
    assert err.code == "MalformedPolicyDocumentException"
    assert kms.error("GetKeyPolicy", KeyId=key_id, PolicyName="other").code == "NotFoundException"
    huge = key_policy(*[{**root_statement(), "Sid": f"S{i}"} for i in range(400)])
    assert kms.error("PutKeyPolicy", KeyId=key_id, Policy=huge).code == "LimitExceededException"


def test_describe_key_by_every_spelling(kms: KmsEnv) -> None:
    md = kms.key()
    kms.call("CreateAlias", AliasName="alias/mine", TargetKeyId=md["KeyId"])
    for ref in (
        md["KeyId"],
        md["Arn"],
        "alias/mine",
        f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/mine",
    ):
        assert kms.call("DescribeKey", KeyId=ref)["KeyMetadata"]["KeyId"] == md["KeyId"]


def test_describe_key_errors(kms: KmsEnv) -> None:
    missing = "11111111-2222-3333-4444-555555555555"
    err = kms.error("DescribeKey", KeyId=missing)
    assert err.code == "NotFoundException"
    assert f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{missing}" in err.message
    assert kms.error("DescribeKey", KeyId="not-a-key").code == "NotFoundException"
    assert kms.error("DescribeKey", KeyId="alias/none").code == "NotFoundException"
    assert kms.error("DescribeKey", KeyId="arn:aws:kms:bad").code == "InvalidArnException"
    # A key in another Region is not visible here.
    md = kms.key()
    err = kms.error("DescribeKey", KeyId=md["KeyId"], region="eu-west-1")
    assert err.code == "NotFoundException"


def test_list_keys_pages(kms: KmsEnv) -> None:
    ids = sorted(kms.key()["KeyId"] for _ in range(5))
    first = kms.call("ListKeys", Limit=2)
    assert first["Truncated"] is True
    seen = [k["KeyId"] for k in first["Keys"]]
    marker = first["NextMarker"]
    while marker:
        page = kms.call("ListKeys", Limit=2, Marker=marker)
        seen += [k["KeyId"] for k in page["Keys"]]
        marker = page.get("NextMarker")
    assert seen == ids
    assert all(k["KeyArn"].endswith(k["KeyId"]) for k in first["Keys"])
    assert kms.error("ListKeys", Marker="garbage").code == "InvalidMarkerException"
    # Another Region and another account see none of them.
    assert kms.call("ListKeys", region="eu-west-1")["Keys"] == []
    assert kms.call("ListKeys", principal=kms.other_admin)["Keys"] == []


def test_enable_disable(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    kms.call("DisableKey", KeyId=key_id)
    md = kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]
    assert (md["KeyState"], md["Enabled"]) == ("Disabled", False)
    err = kms.error("Encrypt", KeyId=key_id, Plaintext=b"x")
    assert err.code == "DisabledException" and key_id in err.message
    kms.call("DisableKey", KeyId=key_id)  # idempotent
    kms.call("EnableKey", KeyId=key_id)
    assert kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    # Management operations do not take aliases.
    kms.call("CreateAlias", AliasName="alias/x", TargetKeyId=key_id)
    assert kms.error("DisableKey", KeyId="alias/x").code == "NotFoundException"


def test_schedule_and_cancel_deletion(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    out = kms.call("ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    assert out["KeyState"] == "PendingDeletion" and out["PendingWindowInDays"] == 7
    assert out["DeletionDate"] == kms.clock.now + timedelta(days=7)
    md = kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]
    assert md["KeyState"] == "PendingDeletion" and md["DeletionDate"] == out["DeletionDate"]
    assert kms.error("Encrypt", KeyId=key_id, Plaintext=b"x").code == "KMSInvalidStateException"
    err = kms.error("EnableKey", KeyId=key_id)
    assert err.code == "KMSInvalidStateException" and "is pending deletion" in err.message
    err = kms.error("ScheduleKeyDeletion", KeyId=key_id)
    assert err.code == "KMSInvalidStateException"
    assert kms.call("CancelKeyDeletion", KeyId=key_id)["KeyId"].endswith(key_id)
    md = kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]
    assert md["KeyState"] == "Disabled" and "DeletionDate" not in md
    assert kms.error("CancelKeyDeletion", KeyId=key_id).code == "KMSInvalidStateException"


def test_schedule_deletion_window_limits(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    for bad in (6, 31):
        err = kms.error("ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=bad)
        assert err.code == "ValidationException"
    out = kms.call("ScheduleKeyDeletion", KeyId=key_id)
    assert out["PendingWindowInDays"] == 30


def test_update_key_description(kms: KmsEnv) -> None:
    key_id = kms.key(Description="old")["KeyId"]
    kms.call("UpdateKeyDescription", KeyId=key_id, Description="new")
    assert kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]["Description"] == "new"
    kms.call("ScheduleKeyDeletion", KeyId=key_id)
    err = kms.error("UpdateKeyDescription", KeyId=key_id, Description="x")
    assert err.code == "KMSInvalidStateException"


def test_management_of_another_accounts_key_is_not_found(kms: KmsEnv) -> None:
    md = kms.key()
    err = kms.error("DisableKey", KeyId=md["Arn"], principal=kms.other_admin)
    assert err.code == "NotFoundException"


def test_get_key_last_usage(kms: KmsEnv) -> None:
    md = kms.key()
    out = kms.call("GetKeyLastUsage", KeyId=md["KeyId"])
    assert "KeyLastUsage" not in out
    assert out["TrackingStartDate"] == out["KeyCreationDate"] == md["CreationDate"]
    kms.clock.advance(60)
    kms.call("Encrypt", KeyId=md["KeyId"], Plaintext=b"x")
    kms.clock.advance(1)
    kms.call("GenerateDataKey", KeyId=md["KeyId"], KeySpec="AES_256")
    last = kms.call("GetKeyLastUsage", KeyId=md["KeyId"])["KeyLastUsage"]
    assert last["Operation"] == "GenerateDataKey"
    assert last["Timestamp"] == kms.clock.now
    assert last["KmsRequestId"]
