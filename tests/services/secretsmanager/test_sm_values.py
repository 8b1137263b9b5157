"""CreateSecret, GetSecretValue, PutSecretValue, UpdateSecret: values, versions,
idempotency and the errors AWS documents."""

from __future__ import annotations

import json

import pytest
from tests.services.secretsmanager.sm_support import TOKEN_A, TOKEN_B, SmEnv

from strongroom.services.secretsmanager.records import SecretRecord, VersionValue


def test_create_and_read_by_name_full_and_partial_arn(sm: SmEnv) -> None:
    created = sm.secret("prod/db", '{"password":"x"}', Description="the db")
    arn = created["ARN"]
    assert arn.startswith("arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-")
    assert len(arn.rsplit("-", 1)[1]) == 6
    partial = arn.rsplit("-", 1)[0]
    for secret_id in ("prod/db", arn, partial):
        got = sm.value(secret_id)
        assert got["SecretString"] == '{"password":"x"}'
        assert got["ARN"] == arn
        assert got["VersionId"] == created["VersionId"]
        assert got["VersionStages"] == ["AWSCURRENT"]
    # A full ARN with another suffix names no secret.
    assert sm.error("GetSecretValue", SecretId=partial + "-ZZZZZZ").code == (
        "ResourceNotFoundException"
    )


def test_binary_secret_round_trips(sm: SmEnv) -> None:
    blob = bytes(range(256)) * 10
    sm.call("CreateSecret", Name="bin", SecretBinary=blob)
    got = sm.value("bin")
    assert got["SecretBinary"] == blob
    assert "SecretString" not in got


def test_value_size_limit_is_65536_bytes(sm: SmEnv) -> None:
    sm.call("CreateSecret", Name="big", SecretString="x" * 65536)
    assert len(sm.value("big")["SecretString"]) == 65536
    err = sm.error("PutSecretValue", SecretId="big", SecretString="x" * 65537)
    assert err.code == "InvalidParameterException"


def test_string_and_binary_together_is_refused(sm: SmEnv) -> None:
    err = sm.error("CreateSecret", Name="both", SecretString="a", SecretBinary=b"b")
    assert err.code == "InvalidParameterException"
    assert "both" in err.message


def test_secret_without_value_has_no_current_version(sm: SmEnv) -> None:
    out = sm.call("CreateSecret", Name="empty")
    assert "VersionId" not in out
    err = sm.error("GetSecretValue", SecretId="empty")
    assert err.code == "ResourceNotFoundException"
    assert "AWSCURRENT" in err.message
    # The first value gets AWSCURRENT even when other labels are asked for.
    put = sm.call("PutSecretValue", SecretId="empty", SecretString="v", VersionStages=["custom"])
    assert sorted(put["VersionStages"]) == ["AWSCURRENT", "custom"]


def test_create_existing_name_fails(sm: SmEnv) -> None:
    sm.secret("dup")
    err = sm.error("CreateSecret", Name="dup", SecretString="other")
    assert err.code == "ResourceExistsException"
    assert err.message == "The operation failed because the secret dup already exists."


def test_create_is_idempotent_on_client_request_token(sm: SmEnv) -> None:
    first = sm.secret("idem", "v1", ClientRequestToken=TOKEN_A)
    again = sm.secret("idem", "v1", ClientRequestToken=TOKEN_A)
    assert again["ARN"] == first["ARN"] and again["VersionId"] == TOKEN_A
    err = sm.error("CreateSecret", Name="idem", SecretString="v2", ClientRequestToken=TOKEN_A)
    assert err.code == "ResourceExistsException"


def test_put_same_token_same_value_creates_nothing(sm: SmEnv) -> None:
    sm.secret("p", "v0")
    first = sm.call("PutSecretValue", SecretId="p", SecretString="v1", ClientRequestToken=TOKEN_A)
    again = sm.call("PutSecretValue", SecretId="p", SecretString="v1", ClientRequestToken=TOKEN_A)
    assert first["VersionId"] == again["VersionId"] == TOKEN_A
    assert len(sm.stages("p")) == 2
    err = sm.error("PutSecretValue", SecretId="p", SecretString="other", ClientRequestToken=TOKEN_A)
    assert err.code == "ResourceExistsException"
    assert err.message == "You can't modify an existing version, you can only create a new version."
    # Same bytes but binary instead of string is a different value.
    err = sm.error("PutSecretValue", SecretId="p", SecretBinary=b"v1", ClientRequestToken=TOKEN_A)
    assert err.code == "ResourceExistsException"


def test_put_moves_current_and_previous(sm: SmEnv) -> None:
    v1 = sm.secret("rot", "one")["VersionId"]
    v2 = sm.call("PutSecretValue", SecretId="rot", SecretString="two")["VersionId"]
    v3 = sm.call("PutSecretValue", SecretId="rot", SecretString="three")["VersionId"]
    stages = sm.stages("rot")
    assert stages == {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    assert v1 not in stages  # deprecated: no labels left
    assert sm.value("rot", VersionStage="AWSPREVIOUS")["SecretString"] == "two"
    assert sm.value("rot", VersionId=v1)["SecretString"] == "one"


def test_put_with_custom_stage_does_not_touch_current(sm: SmEnv) -> None:
    v1 = sm.secret("c", "one")["VersionId"]
    v2 = sm.call("PutSecretValue", SecretId="c", SecretString="two", VersionStages=["blue"])[
        "VersionId"
    ]
    assert sm.stages("c") == {v1: ["AWSCURRENT"], v2: ["blue"]}
    assert sm.value("c", VersionStage="blue")["SecretString"] == "two"


def test_get_value_version_and_stage_errors(sm: SmEnv) -> None:
    v1 = sm.secret("e", "one")["VersionId"]
    err = sm.error("GetSecretValue", SecretId="e", VersionId="f" * 32)
    assert err.code == "ResourceNotFoundException"
    assert "VersionId" in err.message
    err = sm.error("GetSecretValue", SecretId="e", VersionStage="AWSPENDING")
    assert err.code == "ResourceNotFoundException"
    assert err.message.endswith("staging label: AWSPENDING")
    err = sm.error("GetSecretValue", SecretId="e", VersionId=v1, VersionStage="AWSPREVIOUS")
    assert err.code == "InvalidRequestException"
    assert sm.error("GetSecretValue", SecretId="nope").message == (
        "Secrets Manager can't find the specified secret."
    )


def test_update_secret_description_and_value(sm: SmEnv) -> None:
    sm.secret("u", "one", Description="old")
    out = sm.call("UpdateSecret", SecretId="u", Description="new")
    assert "VersionId" not in out
    described = sm.call("DescribeSecret", SecretId="u")
    assert described["Description"] == "new"
    out = sm.call("UpdateSecret", SecretId="u", SecretString="two", ClientRequestToken=TOKEN_B)
    assert out["VersionId"] == TOKEN_B
    assert sm.value("u")["SecretString"] == "two"
    # A retried UpdateSecret with the same token and value is accepted.
    again = sm.call("UpdateSecret", SecretId="u", SecretString="two", ClientRequestToken=TOKEN_B)
    assert again["VersionId"] == TOKEN_B


def test_update_secret_kms_key_reencrypts_labelled_versions(sm: SmEnv) -> None:
    sm.secret("k", "one")
    sm.call("PutSecretValue", SecretId="k", SecretString="two")
    key = sm.kms_call("CreateKey")["KeyMetadata"]
    sm.call("UpdateSecret", SecretId="k", KmsKeyId=key["Arn"])
    described = sm.call("DescribeSecret", SecretId="k")
    assert described["KmsKeyId"] == key["Arn"]
    versions = sm.call("ListSecretVersionIds", SecretId="k")["Versions"]
    assert {tuple(v["KmsKeyIds"]) for v in versions} == {(key["Arn"],)}
    # Still readable, and now really under the new key: disabling it breaks reads.
    assert sm.value("k", VersionStage="AWSPREVIOUS")["SecretString"] == "one"
    sm.kms_call("DisableKey", KeyId=key["KeyId"])
    sm.clock.advance(5)  # past the KMS key cache
    err = sm.error("GetSecretValue", SecretId="k")
    assert err.code == "DecryptionFailure"


def test_default_key_is_the_aws_managed_key(sm: SmEnv) -> None:
    sm.secret("d", "v")
    described = sm.call("DescribeSecret", SecretId="d")
    assert "KmsKeyId" not in described  # AWS omits it for aws/secretsmanager
    aliases = sm.kms_call("ListAliases")["Aliases"]
    managed = [a for a in aliases if a["AliasName"] == "alias/aws/secretsmanager"]
    assert managed and managed[0].get("TargetKeyId")
    versions = sm.call("ListSecretVersionIds", SecretId="d")["Versions"]
    assert versions[0]["KmsKeyIds"][0].endswith(managed[0]["TargetKeyId"])
    # Its policy allows use only through Secrets Manager: a direct Decrypt is refused.
    key = next(k for k, _ in sm.store.scan("secretsmanager/") if "/value/" in k)
    stored = VersionValue.loads(sm.store.get(key) or b"")
    with pytest.raises(Exception) as info:
        sm.kms_call("Decrypt", CiphertextBlob=stored.data_key)
    assert getattr(info.value, "code", "") == "AccessDeniedException"


def test_stored_value_is_kms_envelope_with_secret_context(sm: SmEnv) -> None:
    key = sm.kms_call("CreateKey")["KeyMetadata"]
    created = sm.secret("env", "top-secret-value", KmsKeyId=key["KeyId"])
    raw = {k: v for k, v in sm.store.scan("secretsmanager/")}
    assert not any(b"top-secret-value" in v for v in raw.values())
    value_key = next(k for k in raw if "/value/" in k)
    stored = VersionValue.loads(raw[value_key])
    # The data key opens only with the documented encryption context.
    ok = sm.kms_call(
        "Decrypt",
        CiphertextBlob=stored.data_key,
        EncryptionContext={"SecretARN": created["ARN"], "SecretVersionId": created["VersionId"]},
    )
    assert len(ok["Plaintext"]) == 32
    with pytest.raises(Exception) as info:
        sm.kms_call("Decrypt", CiphertextBlob=stored.data_key)
    assert getattr(info.value, "code", "") == "InvalidCiphertextException"


def test_tampered_ciphertext_is_a_decryption_failure(sm: SmEnv) -> None:
    sm.secret("t", "value")
    key = next(k for k, _ in sm.store.scan("secretsmanager/") if "/value/" in k)
    stored = VersionValue.loads(sm.store.get(key) or b"")
    # The sealed blob is version byte, nonce, ciphertext, tag: any flipped bit fails.
    for index in (0, 1, 13, len(stored.sealed) - 1):
        tampered = bytearray(stored.sealed)
        tampered[index] ^= 1
        sm.store.put(key, VersionValue(**{**vars(stored), "sealed": bytes(tampered)}).dumps())
        sm.sm.repo.forget_values()
        assert sm.error("GetSecretValue", SecretId="t").code == "DecryptionFailure"
    sm.store.put(key, stored.dumps())
    sm.sm.repo.forget_values()
    assert sm.value("t")["SecretString"] == "value"


def test_value_moved_to_another_version_does_not_open(sm: SmEnv) -> None:
    sm.secret("m", "first", ClientRequestToken=TOKEN_A)
    sm.call("PutSecretValue", SecretId="m", SecretString="second", ClientRequestToken=TOKEN_B)
    keys = {k.rsplit("/", 1)[1]: k for k, _ in sm.store.scan("secretsmanager/") if "/value/" in k}
    # Version A's value stored as version B's: bound to A, it does not open as B.
    sm.store.put(keys[TOKEN_B], sm.store.get(keys[TOKEN_A]) or b"")
    sm.sm.repo.forget_values()
    assert sm.error("GetSecretValue", SecretId="m").code == "DecryptionFailure"
    assert sm.value("m", VersionId=TOKEN_A)["SecretString"] == "first"


def test_last_accessed_is_kept_to_the_day(sm: SmEnv) -> None:
    sm.secret("a", "v")
    sm.value("a")
    record = SecretRecord.loads(
        next(v for k, v in sm.store.scan("secretsmanager/") if "/secret/" in k)
    )
    assert record.last_accessed == "2024-05-01T00:00:00.000000+00:00"
    sm.clock.advance(86400)
    sm.value("a")
    described = sm.call("DescribeSecret", SecretId="a")
    assert described["LastAccessedDate"].day == 2


def test_json_secret_value_is_returned_verbatim(sm: SmEnv) -> None:
    doc = json.dumps({"username": "u", "password": 'p@ss"word'})
    sm.secret("j", doc)
    assert json.loads(sm.value("j")["SecretString"])["password"] == 'p@ss"word'


def test_invalid_names_and_tokens(sm: SmEnv) -> None:
    assert sm.error("CreateSecret", Name="bad name!").code == "InvalidParameterException"
    # "$" in a pattern matches before a final newline: names are matched whole.
    assert sm.error("CreateSecret", Name="name\n").code == "InvalidParameterException"
    err = sm.error("CreateSecret", Name="ok", SecretString="v", ClientRequestToken="short")
    assert err.code == "InvalidParameterException"
