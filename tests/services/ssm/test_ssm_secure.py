"""SecureString: stored only as KMS ciphertext, read through KMS with the caller's
own kms:Decrypt (kms:ViaService, encryption context PARAMETER_ARN), standard
tier by Encrypt and advanced tier by envelope encryption."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from tests.services.ssm.ssm_support import SsmEnv, allow
from tests.support.fake_platform import ACCOUNT

from strongroom.errors import ServiceError

SECRET = "correct horse battery staple"
ARN_PREFIX = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter"


def _denied(ssm: SsmEnv, principal: Any, operation: str, **params: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        ssm.call(operation, principal=principal, **params)
    return info.value


def test_default_key_and_no_plaintext_stored(ssm: SsmEnv) -> None:
    ssm.put("/s", SECRET, "SecureString")
    ssm.put("/big", SECRET * 200, "SecureString", Tier="Advanced")
    alias = ssm.call("DescribeKey", service="kms", KeyId="alias/aws/ssm")["KeyMetadata"]
    assert alias["KeyManager"] == "AWS"
    assert ssm.get("/s", WithDecryption=True)["Value"] == SECRET
    assert ssm.get("/big", WithDecryption=True)["Value"] == SECRET * 200
    for key in ssm.store.list(""):
        raw = ssm.store.get(key) or b""
        assert SECRET.encode() not in raw, key
        assert base64.b64encode(SECRET.encode()) not in raw, key


def test_without_decryption_the_value_is_ciphertext(ssm: SsmEnv) -> None:
    ssm.put("/s", SECRET, "SecureString", KeyId=ssm.kms_key())
    value = ssm.get("/s")["Value"]
    assert value != SECRET and SECRET.encode() not in base64.b64decode(value)
    # It is real KMS ciphertext bound to the parameter's ARN.
    plain = ssm.call(
        "Decrypt",
        service="kms",
        CiphertextBlob=base64.b64decode(value),
        EncryptionContext={"PARAMETER_ARN": f"{ARN_PREFIX}/s"},
    )
    assert plain["Plaintext"] == SECRET.encode()
    err = ssm.error("Decrypt", service="kms", CiphertextBlob=base64.b64decode(value))
    assert err.code == "InvalidCiphertextException"


def test_aws_managed_key_is_usable_through_ssm_only(ssm: SsmEnv) -> None:
    ssm.put("/s", SECRET, "SecureString")
    user = ssm.user("reader", allow("ssm:GetParameter"))
    # The alias/aws/ssm key policy lets the account's principals use it via SSM.
    got = ssm.call("GetParameter", principal=user, Name="/s", WithDecryption=True)
    assert got["Parameter"]["Value"] == SECRET
    # But not directly.
    blob = base64.b64decode(ssm.get("/s")["Value"])
    err = _denied(
        ssm,
        user,
        "Decrypt",
        service="kms",
        CiphertextBlob=blob,
        EncryptionContext={"PARAMETER_ARN": f"{ARN_PREFIX}/s"},
    )
    assert err.code == "AccessDeniedException"


def test_customer_key_needs_kms_decrypt(ssm: SsmEnv) -> None:
    key = ssm.kms_key()
    ssm.put("/c", SECRET, "SecureString", KeyId=key)
    meta = ssm.call("DescribeParameters")["Parameters"][0]
    assert meta["KeyId"] == key
    user = ssm.user("u", allow("ssm:GetParameter"))
    assert ssm.call("GetParameter", principal=user, Name="/c")["Parameter"]["Value"] != SECRET
    err = _denied(ssm, user, "GetParameter", Name="/c", WithDecryption=True)
    assert err.code == "AccessDeniedException" and "kms:Decrypt" in err.message
    assert SECRET not in err.message
    allowed = ssm.user("v", allow("ssm:GetParameter"), allow("kms:Decrypt", key))
    got = ssm.call("GetParameter", principal=allowed, Name="/c", WithDecryption=True)
    assert got["Parameter"]["Value"] == SECRET


def test_encryption_context_and_via_service_conditions(ssm: SsmEnv) -> None:
    key = ssm.kms_key()
    ssm.put("/app/a", SECRET, "SecureString", KeyId=key)
    ssm.put("/other/b", SECRET, "SecureString", KeyId=key)
    user = ssm.user(
        "ctx",
        allow("ssm:GetParameter"),
        allow(
            "kms:Decrypt",
            key,
            Condition={
                "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": f"{ARN_PREFIX}/app/*"},
                "StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"},
            },
        ),
    )
    got = ssm.call("GetParameter", principal=user, Name="/app/a", WithDecryption=True)
    assert got["Parameter"]["Value"] == SECRET
    err = _denied(ssm, user, "GetParameter", Name="/other/b", WithDecryption=True)
    assert err.code == "AccessDeniedException"


def test_put_needs_encrypt_or_generate_data_key(ssm: SsmEnv) -> None:
    key = ssm.kms_key()
    user = ssm.user("w", allow(["ssm:PutParameter", "ssm:GetParameter"]), allow("kms:Encrypt", key))
    ssm.call(
        "PutParameter", principal=user, Name="/std", Value=SECRET, Type="SecureString", KeyId=key
    )
    err = _denied(
        ssm,
        user,
        "PutParameter",
        Name="/adv",
        Value=SECRET,
        Type="SecureString",
        KeyId=key,
        Tier="Advanced",
    )
    assert err.code == "AccessDeniedException" and "kms:GenerateDataKey" in err.message
    assert ssm.error("GetParameter", Name="/adv").code == "ParameterNotFound"


def test_unusable_keys_are_invalid_key_id(ssm: SsmEnv) -> None:
    err = ssm.error(
        "PutParameter",
        Name="/x",
        Value="v",
        Type="SecureString",
        KeyId="11111111-2222-3333-4444-555555555555",
    )
    assert err.code == "InvalidKeyId"
    rsa = ssm.kms_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    err = ssm.error("PutParameter", Name="/x", Value="v", Type="SecureString", KeyId=rsa)
    assert err.code == "InvalidKeyId"
    key = ssm.kms_key()
    ssm.put("/d", SECRET, "SecureString", KeyId=key)
    ssm.call("DisableKey", service="kms", KeyId=key)
    assert ssm.error("GetParameter", Name="/d", WithDecryption=True).code == "InvalidKeyId"
    # Metadata and ciphertext stay readable.
    assert ssm.get("/d")["Value"] != SECRET
    err = ssm.error("PutParameter", Name="/d", Value="new", Overwrite=True)
    assert err.code == "InvalidKeyId"


def test_overwrite_keeps_the_customer_key_and_history_decrypts(ssm: SsmEnv) -> None:
    key = ssm.kms_key()
    ssm.put("/h", "one", "SecureString", KeyId=key)
    ssm.call("PutParameter", Name="/h", Value="two", Overwrite=True, Tier="Advanced")
    rows = ssm.call("GetParameterHistory", Name="/h", WithDecryption=True)["Parameters"]
    assert [(r["Value"], r["KeyId"], r["Tier"]) for r in rows] == [
        ("one", key, "Standard"),
        ("two", key, "Advanced"),
    ]
    hidden = ssm.call("GetParameterHistory", Name="/h")["Parameters"]
    assert {r["Value"] for r in hidden}.isdisjoint({"one", "two"})


def test_ciphertext_cannot_move_to_another_parameter(ssm: SsmEnv) -> None:
    ssm.put("/a", SECRET, "SecureString")
    ssm.put("/b", "other", "SecureString", Tier="Advanced")
    ssm.put("/c", "other", "SecureString")
    for source, target in (("/a", "/c"), ("/b", "/a")):
        src = ssm.ssm.repo.read().param(ACCOUNT, "us-east-1", source)
        dst = ssm.ssm.repo.read().param(ACCOUNT, "us-east-1", target)
        assert src is not None and dst is not None
        dst.current.sealed, dst.current.enc = src.current.sealed, src.current.enc
        with ssm.ssm.repo.write() as txn:
            txn.put_param(dst)
        # The encryption context names the ARN it was sealed for.
        assert ssm.error("GetParameter", Name=target, WithDecryption=True).code == "InvalidKeyId"


def test_customer_key_by_alias(ssm: SsmEnv) -> None:
    key = ssm.kms_key()
    ssm.call("CreateAlias", service="kms", AliasName="alias/app", TargetKeyId=key)
    ssm.put("/al", SECRET, "SecureString", KeyId="alias/app")
    assert ssm.get("/al", WithDecryption=True)["Value"] == SECRET
    assert ssm.call("DescribeParameters")["Parameters"][0]["KeyId"] == "alias/app"
    rows = ssm.call("GetParameterHistory", Name="/al")["Parameters"]
    assert rows[0]["KeyId"] == "alias/app"
