"""Grants: what they allow, constraints, tokens, listing, retiring and revoking."""

from __future__ import annotations

import json

from tests.services.kms.kms_support import KmsEnv, allow, key_policy
from tests.support.fake_platform import ACCOUNT, OTHER_ACCOUNT


def _admin_only_policy() -> str:
    # Only the admin user: no IAM delegation, so nobody else gets anything but by grant.
    return key_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/admin"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )


def test_grant_allows_its_operations_only(kms: KmsEnv) -> None:
    key_id = kms.key(Policy=_admin_only_policy())["KeyId"]
    olga = kms.user("olga")
    assert kms.error("Encrypt", KeyId=key_id, Plaintext=b"x", principal=olga).code == (
        "AccessDeniedException"
    )
    out = kms.call(
        "CreateGrant",
        KeyId=key_id,
        GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/olga",
        Operations=["Encrypt", "Decrypt"],
        Name="olga-grant",
    )
    assert len(out["GrantId"]) == 64 and out["GrantToken"]
    blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"x", principal=olga)["CiphertextBlob"]
    assert kms.call("Decrypt", CiphertextBlob=blob, principal=olga)["Plaintext"] == b"x"
    err = kms.error("GenerateDataKey", KeyId=key_id, KeySpec="AES_256", principal=olga)
    assert err.code == "AccessDeniedException"
    assert kms.error("DescribeKey", KeyId=key_id, principal=olga).code == "AccessDeniedException"


def test_grant_cannot_override_explicit_deny(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "kms:Encrypt", "Resource": "*"}],
    }
    pat = kms.user("pat", deny)
    kms.call(
        "CreateGrant",
        KeyId=key_id,
        GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/pat",
        Operations=["Encrypt"],
    )
    assert kms.error("Encrypt", KeyId=key_id, Plaintext=b"x", principal=pat).code == (
        "AccessDeniedException"
    )


def test_grant_constraints(kms: KmsEnv) -> None:
    key_id = kms.key(Policy=_admin_only_policy())["KeyId"]
    quinn = kms.user("quinn")
    arn = f"arn:aws:iam::{ACCOUNT}:user/quinn"
    kms.call(
        "CreateGrant",
        KeyId=key_id,
        GranteePrincipal=arn,
        Operations=["Encrypt"],
        Constraints={"EncryptionContextSubset": {"dept": "it"}},
    )
    kms.call(
        "CreateGrant",
        KeyId=key_id,
        GranteePrincipal=arn,
        Operations=["GenerateDataKey"],
        Constraints={"EncryptionContextEquals": {"dept": "it"}},
    )

    def encrypt(context: dict[str, str]) -> str:
        try:
            kms.call(
                "Encrypt", KeyId=key_id, Plaintext=b"x", EncryptionContext=context, principal=quinn
            )
            return "ok"
        except Exception as exc:
            return str(getattr(exc, "code", exc))

    assert encrypt({"dept": "it"}) == "ok"
    assert encrypt({"dept": "it", "extra": "1"}) == "ok"
    assert encrypt({"dept": "hr"}) == "AccessDeniedException"
    assert encrypt({}) == "AccessDeniedException"
    kms.call(
        "GenerateDataKey",
        KeyId=key_id,
        KeySpec="AES_256",
        EncryptionContext={"dept": "it"},
        principal=quinn,
    )
    err = kms.error(
        "GenerateDataKey",
        KeyId=key_id,
        KeySpec="AES_256",
        EncryptionContext={"dept": "it", "extra": "1"},
        principal=quinn,
    )
    assert err.code == "AccessDeniedException"


def test_create_grant_validation(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    grantee = f"arn:aws:iam::{ACCOUNT}:user/admin"
    err = kms.error("CreateGrant", KeyId=key_id, GranteePrincipal=grantee, Operations=["Sign"])
    assert err.code == "ValidationException"
    err = kms.error(
        "CreateGrant",
        KeyId=key_id,
        GranteePrincipal=grantee,
        Operations=["Encrypt"],
        Constraints={"EncryptionContextSubset": {"a": "1"}, "EncryptionContextEquals": {"a": "1"}},
    )
    assert err.code == "ValidationException"
    err = kms.error("CreateGrant", KeyId=key_id, GranteePrincipal=grantee, Operations=[])
    assert err.code == "ValidationException"
    err = kms.error(
        "CreateGrant", KeyId=key_id, GranteePrincipal=grantee, Operations=["Encrypt"], DryRun=True
    )
    assert err.code == "DryRunOperationException"
    kms.call("ScheduleKeyDeletion", KeyId=key_id)
    err = kms.error("CreateGrant", KeyId=key_id, GranteePrincipal=grantee, Operations=["Encrypt"])
    assert err.code == "KMSInvalidStateException"


def test_grant_conditions_in_policies(kms: KmsEnv) -> None:
    rita = kms.user(
        "rita",
        allow(
            "kms:CreateGrant",
            Condition={"ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]}},
        ),
    )
    key_id = kms.key()["KeyId"]
    grantee = f"arn:aws:iam::{ACCOUNT}:user/admin"
    kms.call(
        "CreateGrant",
        KeyId=key_id,
        GranteePrincipal=grantee,
        Operations=["Decrypt"],
        principal=rita,
    )
    err = kms.error(
        "CreateGrant",
        KeyId=key_id,
        GranteePrincipal=grantee,
        Operations=["Decrypt", "Encrypt"],
        principal=rita,
    )
    assert err.code == "AccessDeniedException"


def test_create_grant_by_grant_is_limited(kms: KmsEnv) -> None:
    key_id = kms.key(Policy=_admin_only_policy())["KeyId"]
    sam = kms.user("sam")
    kms.call(
        "CreateGrant",
        KeyId=key_id,
        GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/sam",
        Operations=["CreateGrant", "Decrypt"],
    )
    kms.call(
        "CreateGrant",
        KeyId=key_id,
        GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/admin",
        Operations=["Decrypt"],
        principal=sam,
    )
    err = kms.error(
        "CreateGrant",
        KeyId=key_id,
        GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/admin",
        Operations=["Encrypt"],
        principal=sam,
    )
    assert err.code == "AccessDeniedException"


def test_cross_account_grant(kms: KmsEnv) -> None:
    key = kms.key()
    user = kms.other_user("tom")
    kms.call(
        "CreateGrant",
        KeyId=key["KeyId"],
        GranteePrincipal=f"arn:aws:iam::{OTHER_ACCOUNT}:user/tom",
        Operations=["Encrypt"],
    )
    assert kms.call("Encrypt", KeyId=key["Arn"], Plaintext=b"x", principal=user)


def test_grant_to_an_account_reaches_its_principals_through_iam(kms: KmsEnv) -> None:
    key = kms.key()
    kms.call(
        "CreateGrant",
        KeyId=key["KeyId"],
        GranteePrincipal=f"arn:aws:iam::{OTHER_ACCOUNT}:root",
        Operations=["Encrypt"],
    )
    allowed = kms.other_user("uma", allow("kms:Encrypt", key["Arn"]))
    denied = kms.other_user("vic")
    assert kms.call("Encrypt", KeyId=key["Arn"], Plaintext=b"x", principal=allowed)
    assert kms.error("Encrypt", KeyId=key["Arn"], Plaintext=b"x", principal=denied).code == (
        "AccessDeniedException"
    )


def test_list_retire_revoke(kms: KmsEnv) -> None:
    key = kms.key()
    grantee = f"arn:aws:iam::{ACCOUNT}:user/wes"
    retiring = f"arn:aws:iam::{ACCOUNT}:user/xena"
    wes = kms.user("wes")
    xena = kms.user("xena", allow("kms:ListRetirableGrants"))
    one = kms.call(
        "CreateGrant",
        KeyId=key["KeyId"],
        GranteePrincipal=grantee,
        RetiringPrincipal=retiring,
        Operations=["Encrypt"],
        Constraints={"EncryptionContextSubset": {"a": "b"}},
        Name="one",
    )
    two = kms.call(
        "CreateGrant",
        KeyId=key["KeyId"],
        GranteePrincipal=grantee,
        Operations=["Decrypt", "RetireGrant"],
    )
    again = kms.call(
        "CreateGrant",
        KeyId=key["KeyId"],
        GranteePrincipal=grantee,
        RetiringPrincipal=retiring,
        Operations=["Encrypt"],
        Constraints={"EncryptionContextSubset": {"a": "b"}},
        Name="one",
    )
    assert again["GrantId"] == one["GrantId"]  # idempotent by name
    listed = kms.call("ListGrants", KeyId=key["KeyId"])
    assert listed["Truncated"] is False
    by_id = {g["GrantId"]: g for g in listed["Grants"]}
    assert set(by_id) == {one["GrantId"], two["GrantId"]}
    first = by_id[one["GrantId"]]
    assert first["KeyId"] == key["Arn"] and first["Name"] == "one"
    assert first["GranteePrincipal"] == grantee and first["RetiringPrincipal"] == retiring
    assert first["IssuingAccount"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert first["Constraints"] == {"EncryptionContextSubset": {"a": "b"}}
    paged = kms.call("ListGrants", KeyId=key["KeyId"], Limit=1)
    assert paged["Truncated"] is True and len(paged["Grants"]) == 1
    retirable = kms.call("ListRetirableGrants", RetiringPrincipal=retiring, principal=xena)
    assert [g["GrantId"] for g in retirable["Grants"]] == [one["GrantId"]]

    # Retiring: the retiring principal (by token), the grantee only with RetireGrant.
    err = kms.error("RetireGrant", GrantToken=one["GrantToken"], principal=wes)
    assert err.code == "AccessDeniedException"
    kms.call("RetireGrant", GrantToken=one["GrantToken"], principal=xena)
    kms.call("RetireGrant", KeyId=key["Arn"], GrantId=two["GrantId"], principal=wes)
    assert kms.call("ListGrants", KeyId=key["KeyId"])["Grants"] == []
    assert kms.error("RetireGrant", GrantToken="garbage").code == "InvalidGrantTokenException"
    assert kms.error("RetireGrant", KeyId=key["KeyId"], GrantId="x").code == (
        "InvalidGrantIdException"
    )

    three = kms.call(
        "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=grantee, Operations=["Encrypt"]
    )
    kms.call("RevokeGrant", KeyId=key["KeyId"], GrantId=three["GrantId"])
    err = kms.error("RevokeGrant", KeyId=key["KeyId"], GrantId=three["GrantId"])
    assert err.code == "NotFoundException"
    assert kms.error("Encrypt", KeyId=key["KeyId"], Plaintext=b"x", principal=wes).code == (
        "AccessDeniedException"
    )


def test_grant_token_makes_a_grant_usable_before_the_cache_sees_it(kms: KmsEnv) -> None:
    key_id = kms.key(Policy=_admin_only_policy())["KeyId"]
    yan = kms.user("yan")
    assert kms.error("Encrypt", KeyId=key_id, Plaintext=b"x", principal=yan).code == (
        "AccessDeniedException"
    )
    # Another node creates the grant: write it behind this process's (now stale) cache.
    from strongroom.services.kms.grant_rules import make_token
    from strongroom.services.kms.records import GrantRecord

    grant = GrantRecord(
        account=ACCOUNT,
        region="us-east-1",
        key_id=key_id,
        grant_id="ab" * 32,
        created="2024-05-01T12:00:00.000000+00:00",
        issuing_account=ACCOUNT,
        grantee=f"arn:aws:iam::{ACCOUNT}:user/yan",
        operations=["Encrypt"],
    )
    path = f"kms/grants/{ACCOUNT}/us-east-1/{key_id}/{grant.grant_id}"
    kms.store.put(path, grant.dumps())
    assert kms.error("Encrypt", KeyId=key_id, Plaintext=b"x", principal=yan).code == (
        "AccessDeniedException"
    )
    token = make_token(grant)
    assert kms.call("Encrypt", KeyId=key_id, Plaintext=b"x", GrantTokens=[token], principal=yan)
    assert json.loads(kms.call("GetKeyPolicy", KeyId=key_id)["Policy"])  # admin unaffected
