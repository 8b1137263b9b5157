"""DescribeSecret, DeleteSecret/RestoreSecret and the purge job, tags, GetRandomPassword."""

from __future__ import annotations

import string

import pytest
from tests.services.secretsmanager.sm_support import SmEnv

from strongroom.services.secretsmanager.passwords import PUNCTUATION


def test_delete_schedules_and_blocks_use(sm: SmEnv) -> None:
    arn = sm.secret("d", "v")["ARN"]
    out = sm.call("DeleteSecret", SecretId="d", RecoveryWindowInDays=7)
    assert (out["DeletionDate"] - sm.clock.now).days == 7
    for op, extra in (
        ("GetSecretValue", {}),
        ("PutSecretValue", {"SecretString": "x"}),
        ("UpdateSecret", {"Description": "x"}),
        ("TagResource", {"Tags": [{"Key": "a", "Value": "b"}]}),
    ):
        err = sm.error(op, SecretId="d", **extra)
        assert err.code == "InvalidRequestException"
        assert "marked for deletion" in err.message
    described = sm.call("DescribeSecret", SecretId=arn)
    assert described["DeletedDate"] == sm.clock.now
    again = sm.error("DeleteSecret", SecretId="d")
    assert again.code == "InvalidRequestException"
    assert (
        again.message
        == "You tried to perform the operation on a secret that's currently marked deleted."
    )
    err = sm.error("CreateSecret", Name="d", SecretString="new")
    assert err.code == "InvalidRequestException"
    assert "scheduled for deletion" in err.message


def test_restore_cancels_deletion(sm: SmEnv) -> None:
    sm.secret("r", "v")
    sm.call("DeleteSecret", SecretId="r")
    sm.call("RestoreSecret", SecretId="r")
    assert sm.value("r")["SecretString"] == "v"
    assert "DeletedDate" not in sm.call("DescribeSecret", SecretId="r")
    sm.clock.advance(31 * 86400)
    assert sm.sm.purge_due(sm.clock.now) == 0
    names = sm.event_names()
    assert names[-2:] == ["StartSecretVersionDelete", "CancelSecretVersionDelete"]


def test_purge_job_really_deletes_after_the_window(sm: SmEnv) -> None:
    sm.secret("gone", "value")
    sm.call("DeleteSecret", SecretId="gone", RecoveryWindowInDays=7)
    sm.clock.advance(6 * 86400)
    assert sm.sm.purge_due(sm.clock.now) == 0
    sm.clock.advance(86400 + 1)
    assert sm.sm.purge_due(sm.clock.now) == 1
    assert list(sm.store.scan("secretsmanager/")) == []
    assert sm.error("DescribeSecret", SecretId="gone").code == "ResourceNotFoundException"
    # The name is free again, with a new ARN.
    sm.secret("gone", "again")
    assert sm.event_names()[-1] == "EndSecretVersionDelete"


def test_force_delete_is_immediate_even_when_scheduled(sm: SmEnv) -> None:
    sm.secret("f", "v")
    sm.call("DeleteSecret", SecretId="f")
    sm.call("DeleteSecret", SecretId="f", ForceDeleteWithoutRecovery=True)
    assert list(sm.store.scan("secretsmanager/")) == []


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"RecoveryWindowInDays": 6}, "between 7 and 30"),
        ({"RecoveryWindowInDays": 31}, "between 7 and 30"),
        ({"RecoveryWindowInDays": 7, "ForceDeleteWithoutRecovery": True}, "conjunction"),
    ],
)
def test_delete_parameter_errors(sm: SmEnv, params: dict[str, object], fragment: str) -> None:
    sm.secret("p", "v")
    err = sm.error("DeleteSecret", SecretId="p", **params)
    assert err.code == "InvalidParameterException"
    assert fragment in err.message


def test_tags(sm: SmEnv) -> None:
    sm.secret("t", "v", Tags=[{"Key": "env", "Value": "prod"}])
    sm.call(
        "TagResource",
        SecretId="t",
        Tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "dev"}],
    )
    tags = sm.call("DescribeSecret", SecretId="t")["Tags"]
    assert tags == [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "a"}]
    sm.call("UntagResource", SecretId="t", TagKeys=["env"])
    assert sm.call("DescribeSecret", SecretId="t")["Tags"] == [{"Key": "team", "Value": "a"}]
    err = sm.error("TagResource", SecretId="t", Tags=[{"Key": "aws:x", "Value": "y"}])
    assert err.code == "InvalidParameterException"
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert sm.error("TagResource", SecretId="t", Tags=too_many).code == "InvalidParameterException"


def test_describe_shows_aws_fields(sm: SmEnv) -> None:
    created = sm.secret("desc", "v", Description="d")
    out = sm.call("DescribeSecret", SecretId="desc")
    assert out["ARN"] == created["ARN"]
    assert out["Name"] == "desc"
    assert out["Description"] == "d"
    assert out["PrimaryRegion"] == "us-east-1"
    assert out["CreatedDate"] == sm.clock.now
    assert out["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}
    assert "RotationEnabled" not in out


def test_random_password_defaults(sm: SmEnv) -> None:
    pw = sm.call("GetRandomPassword")["RandomPassword"]
    assert len(pw) == 32
    for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits, PUNCTUATION):
        assert any(c in group for c in pw)
    assert " " not in pw


def test_random_password_options(sm: SmEnv) -> None:
    pw = sm.call(
        "GetRandomPassword",
        PasswordLength=200,
        ExcludePunctuation=True,
        ExcludeUppercase=True,
        ExcludeCharacters="abc0",
        IncludeSpace=True,
    )["RandomPassword"]
    assert len(pw) == 200
    assert not set(pw) & set(PUNCTUATION + string.ascii_uppercase + "abc0")
    assert " " in pw or len(set(pw)) > 10  # space is allowed, not required
    digits = sm.call(
        "GetRandomPassword",
        ExcludeLowercase=True,
        ExcludeUppercase=True,
        ExcludePunctuation=True,
        PasswordLength=50,
    )["RandomPassword"]
    assert digits.isdigit()
    short = sm.error("GetRandomPassword", PasswordLength=3)
    assert short.code == "InvalidParameterException"
    assert short.message == "Password length is too short based on the required types."
    loose = sm.call("GetRandomPassword", PasswordLength=1, RequireEachIncludedType=False)
    assert len(loose["RandomPassword"]) == 1
    everything = sm.error(
        "GetRandomPassword",
        ExcludeLowercase=True,
        ExcludeUppercase=True,
        ExcludeNumbers=True,
        ExcludePunctuation=True,
    )
    assert everything.code == "InvalidParameterException"


def test_random_passwords_differ(sm: SmEnv) -> None:
    seen = {sm.call("GetRandomPassword")["RandomPassword"] for _ in range(50)}
    assert len(seen) == 50
