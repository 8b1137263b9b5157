"""PutParameter: creation, overwrite, types, data types, patterns, tiers, quotas,
version history and its eviction rule, and the change events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.services.ssm.ssm_support import SsmEnv, allow
from tests.support.fake_platform import ACCOUNT

from strongroom.errors import ServiceError


def test_create_and_overwrite(ssm: SsmEnv) -> None:
    assert ssm.put("/app/url", "http://a", Description="d") == {"Version": 1, "Tier": "Standard"}
    first = ssm.get("/app/url")
    assert first["Value"] == "http://a" and first["Version"] == 1
    assert first["ARN"] == f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/url"
    assert first["LastModifiedDate"] == ssm.clock.now
    assert ssm.error("PutParameter", Name="/app/url", Value="x", Type="String").code == (
        "ParameterAlreadyExists"
    )
    ssm.clock.advance(5)
    assert ssm.call("PutParameter", Name="/app/url", Value="http://b", Overwrite=True) == {
        "Version": 2,
        "Tier": "Standard",
    }
    assert ssm.get("/app/url")["Value"] == "http://b"
    meta = ssm.call("DescribeParameters")["Parameters"][0]
    # An overwrite that omits Description keeps it; the type comes from the parameter.
    assert meta["Description"] == "d" and meta["Type"] == "String"
    assert meta["LastModifiedUser"] == ssm.admin.arn


def test_type_is_required_on_create_and_cannot_change(ssm: SsmEnv) -> None:
    err = ssm.error("PutParameter", Name="p", Value="v")
    assert err.code == "ValidationException" and "type is required" in err.message
    ssm.put("p")
    err = ssm.error("PutParameter", Name="p", Value="v", Type="SecureString", Overwrite=True)
    assert err.code == "HierarchyTypeMismatchException"


def test_string_list_and_empty_value(ssm: SsmEnv) -> None:
    ssm.put("list", "a,b,c", "StringList")
    assert ssm.get("list")["Type"] == "StringList" and ssm.get("list")["Value"] == "a,b,c"
    assert ssm.error("PutParameter", Name="e", Value="", Type="String").code == (
        "ValidationException"
    )


def test_unknown_type_and_tier(ssm: SsmEnv) -> None:
    err = ssm.error("PutParameter", Name="p", Value="v", Type="Number")
    assert err.code == "UnsupportedParameterType"
    err = ssm.error("PutParameter", Name="p", Value="v", Type="String", Tier="Gold")
    assert err.code == "ValidationException"


def test_key_id_only_for_secure_string(ssm: SsmEnv) -> None:
    err = ssm.error("PutParameter", Name="p", Value="v", Type="String", KeyId="alias/x")
    assert err.code == "ValidationException"


def test_names_are_validated_and_reserved(ssm: SsmEnv) -> None:
    for bad in ("aws-thing", "/ssm/x", "bad name", "/a//b"):
        assert ssm.error("PutParameter", Name=bad, Value="v", Type="String").code == (
            "ValidationException"
        )
    deep = "/" + "/".join(f"L{i}" for i in range(16))
    assert ssm.error("PutParameter", Name=deep, Value="v", Type="String").code == (
        "HierarchyLevelLimitExceededException"
    )
    arn = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/x"
    assert ssm.error("PutParameter", Name=arn, Value="v", Type="String").code == (
        "ValidationException"
    )


def test_data_types(ssm: SsmEnv) -> None:
    ssm.put("/ami", "ami-0123456789abcdef0", DataType="aws:ec2:image")
    ssm.put("/ami8", "ami-0123abcd", DataType="aws:ec2:image")
    assert ssm.get("/ami")["DataType"] == "aws:ec2:image"
    assert ssm.get("/ami8")["DataType"] == "aws:ec2:image"
    for value in ("ami-123", "ami-0123456789ABCDEF0", "i-0123abcd"):
        err = ssm.error(
            "PutParameter", Name="/bad", Value=value, Type="String", DataType="aws:ec2:image"
        )
        assert err.code == "ValidationException"
    err = ssm.error(
        "PutParameter",
        Name="/s",
        Value="ami-0123abcd",
        Type="SecureString",
        DataType="aws:ec2:image",
    )
    assert err.code == "ValidationException"
    err = ssm.error("PutParameter", Name="/t", Value="v", Type="String", DataType="Text")
    assert err.code == "ValidationException" and "not supported" in err.message
    # An overwrite keeps the data type, and checks the new value against it.
    err = ssm.error("PutParameter", Name="/ami", Value="nope", Overwrite=True)
    assert err.code == "ValidationException"


def test_allowed_pattern(ssm: SsmEnv) -> None:
    ssm.put("/n", "42", AllowedPattern=r"^\d+$")
    err = ssm.error("PutParameter", Name="/n", Value="4x", Overwrite=True)
    assert err.code == "ParameterPatternMismatchException"
    assert "4x" not in err.message  # values never appear in errors
    ssm.call("PutParameter", Name="/n", Value="43", Overwrite=True)
    # The whole value must match (Java's matches()), not a part of it.
    err = ssm.error("PutParameter", Name="/m", Value="abc1", Type="String", AllowedPattern="[a-z]+")
    assert err.code == "ParameterPatternMismatchException"
    err = ssm.error("PutParameter", Name="/m", Value="a", Type="String", AllowedPattern="([a-z")
    assert err.code == "InvalidAllowedPatternException"
    assert ssm.call("DescribeParameters")["Parameters"][0]["AllowedPattern"] == r"^\d+$"


def test_tags_and_overwrite_cannot_be_combined(ssm: SsmEnv) -> None:
    ssm.put("/p", Tags=[{"Key": "team", "Value": "a"}])
    err = ssm.error(
        "PutParameter", Name="/p", Value="v", Overwrite=True, Tags=[{"Key": "k", "Value": "v"}]
    )
    assert err.code == "ValidationException" and "tags and overwrite" in err.message
    tags = ssm.call("ListTagsForResource", ResourceType="Parameter", ResourceId="/p")
    assert tags["TagList"] == [{"Key": "team", "Value": "a"}]
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert ssm.error("PutParameter", Name="/q", Value="v", Type="String", Tags=many).code == (
        "TooManyTagsError"
    )


def test_value_size_limits_by_tier(ssm: SsmEnv) -> None:
    ssm.put("/s4", "x" * 4096)
    err = ssm.error("PutParameter", Name="/s5", Value="x" * 4097, Type="String")
    assert err.code == "ValidationException" and "4096" in err.message
    # Multi-byte characters count as their UTF-8 bytes.
    assert ssm.error("PutParameter", Name="/u", Value="é" * 2049, Type="String").code == (
        "ValidationException"
    )
    assert ssm.put("/a8", "x" * 8192, Tier="Advanced")["Tier"] == "Advanced"
    err = ssm.error("PutParameter", Name="/a9", Value="x" * 8193, Type="String", Tier="Advanced")
    assert err.code == "ValidationException" and "8192" in err.message


def test_tier_upgrade_and_no_downgrade(ssm: SsmEnv) -> None:
    ssm.put("/t", "v")
    assert (
        ssm.call("PutParameter", Name="/t", Value="w", Overwrite=True, Tier="Advanced")["Tier"]
        == "Advanced"
    )
    err = ssm.error("PutParameter", Name="/t", Value="x", Overwrite=True, Tier="Standard")
    assert err.code == "ValidationException" and "downgrade" in err.message
    # Without a Tier, an advanced parameter stays advanced.
    assert ssm.call("PutParameter", Name="/t", Value="y", Overwrite=True)["Tier"] == "Advanced"
    history = ssm.call("GetParameterHistory", Name="/t")["Parameters"]
    assert [h["Tier"] for h in history] == ["Standard", "Advanced", "Advanced"]


def test_intelligent_tiering(ssm: SsmEnv) -> None:
    assert ssm.put("/i1", "small", Tier="Intelligent-Tiering")["Tier"] == "Standard"
    assert ssm.put("/i2", "x" * 5000, Tier="Intelligent-Tiering")["Tier"] == "Advanced"
    expiry = (ssm.clock.now + timedelta(days=1)).isoformat()
    policy = f'[{{"Type":"Expiration","Version":"1.0","Attributes":{{"Timestamp":"{expiry}"}}}}]'
    assert ssm.put("/i3", "v", Tier="Intelligent-Tiering", Policies=policy)["Tier"] == "Advanced"
    # Quota reached for standard parameters: intelligent tiering picks advanced.
    ssm.ssm.standard_limit = 1
    assert ssm.put("/i4", "v", Tier="Intelligent-Tiering")["Tier"] == "Advanced"


def test_default_tier_setting(ssm: SsmEnv) -> None:
    ssm.call(
        "UpdateServiceSetting",
        SettingId="/ssm/parameter-store/default-parameter-tier",
        SettingValue="Advanced",
    )
    assert ssm.put("/d", "v")["Tier"] == "Advanced"
    assert ssm.put("/e", "v", Tier="Standard")["Tier"] == "Standard"


def test_parameter_quotas(ssm: SsmEnv) -> None:
    ssm.ssm.standard_limit = 2
    ssm.ssm.advanced_limit = 1
    ssm.put("/q1")
    ssm.put("/q2")
    assert ssm.error("PutParameter", Name="/q3", Value="v", Type="String").code == (
        "ParameterLimitExceeded"
    )
    ssm.put("/a1", Tier="Advanced")
    assert ssm.error(
        "PutParameter", Name="/a2", Value="v", Type="String", Tier="Advanced"
    ).code == ("ParameterLimitExceeded")
    # Overwrites do not count; deleting frees a place.
    ssm.call("PutParameter", Name="/q1", Value="w", Overwrite=True)
    ssm.call("DeleteParameter", Name="/q1")
    ssm.put("/q3")
    # Upgrading a standard parameter needs an advanced place.
    err = ssm.error("PutParameter", Name="/q2", Value="w", Overwrite=True, Tier="Advanced")
    assert err.code == "ParameterLimitExceeded"


def test_hundred_versions_then_oldest_unlabelled_is_evicted(ssm: SsmEnv) -> None:
    ssm.put("/v", "1")
    for i in range(2, 101):
        ssm.call("PutParameter", Name="/v", Value=str(i), Overwrite=True)
    assert ssm.call("PutParameter", Name="/v", Value="101", Overwrite=True)["Version"] == 101
    history = ssm.call("GetParameterHistory", Name="/v", MaxResults=50)
    versions = [h["Version"] for h in history["Parameters"]]
    assert versions[0] == 2
    assert ssm.error("GetParameter", Name="/v:1").code == "ParameterVersionNotFound"
    assert ssm.get("/v:2")["Value"] == "2"
    # The oldest retained version carries a label: no new version can be made.
    ssm.call("LabelParameterVersion", Name="/v", ParameterVersion=2, Labels=["keep"])
    err = ssm.error("PutParameter", Name="/v", Value="102", Overwrite=True)
    assert err.code == "ParameterMaxVersionLimitExceeded"
    assert "Version 2, the oldest version, can't be deleted" in err.message
    # Moving the label away lets it go.
    ssm.call("LabelParameterVersion", Name="/v", ParameterVersion=50, Labels=["keep"])
    assert ssm.call("PutParameter", Name="/v", Value="102", Overwrite=True)["Version"] == 102
    assert ssm.get("/v:keep")["Value"] == "50"


def test_change_events(ssm: SsmEnv) -> None:
    ssm.put("/ev", "1", Description="about")
    ssm.call("PutParameter", Name="/ev", Value="2", Overwrite=True)
    ssm.call("LabelParameterVersion", Name="/ev", Labels=["prod"])
    ssm.call("DeleteParameter", Name="/ev")
    events = ssm.events(ACCOUNT)
    assert [e["detail"]["operation"] for e in events] == [
        "Create",
        "Update",
        "LabelParameterVersion",
        "Delete",
    ]
    first = events[0]
    assert first["source"] == "aws.ssm" and first["detail-type"] == "Parameter Store Change"
    assert first["detail"] == {
        "operation": "Create",
        "name": "/ev",
        "type": "String",
        "description": "about",
    }
    assert first["resources"] == [f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/ev"]
    assert first["account"] == ACCOUNT and first["region"] == "us-east-1"


def test_put_requires_permission(ssm: SsmEnv) -> None:
    reader = ssm.user("reader", allow("ssm:GetParameter"))
    with pytest.raises(ServiceError) as info:
        ssm.call("PutParameter", principal=reader, Name="/x", Value="v", Type="String")
    assert info.value.code == "AccessDeniedException"
    assert "ssm:PutParameter" in info.value.message
    # Tagging at creation also needs ssm:AddTagsToResource.
    writer = ssm.user("writer", allow("ssm:PutParameter"))
    with pytest.raises(ServiceError) as info:
        ssm.call(
            "PutParameter",
            principal=writer,
            Name="/x",
            Value="v",
            Type="String",
            Tags=[{"Key": "a", "Value": "b"}],
        )
    assert "ssm:AddTagsToResource" in info.value.message
    ssm.call("PutParameter", principal=writer, Name="/x", Value="v", Type="String")


def test_concurrent_change_is_too_many_updates(
    ssm: SsmEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    ssm.put("/race", "1")
    reader = ssm.ssm.repo.read()

    class Stale:
        """What the pre-read saw before another writer created version 1."""

        def param(self, account: str, region: str, name: str) -> None:
            return None

        def counts(self, account: str, region: str) -> dict[str, int]:
            return reader.counts(account, region)

    monkeypatch.setattr(ssm.ssm.repo, "read", lambda: Stale())
    err = ssm.error("PutParameter", Name="/race", Value="2", Type="String", Overwrite=True)
    assert err.code == "TooManyUpdates"
    monkeypatch.undo()
    assert ssm.get("/race")["Value"] == "1"


def test_a_failing_event_bus_does_not_fail_the_committed_change(ssm: SsmEnv) -> None:
    class Broken:
        def publish(self, *args: object) -> str:
            raise RuntimeError("bus down")

    ssm.platform.events = Broken()  # type: ignore[attr-defined]
    assert ssm.put("/still", "saved")["Version"] == 1
    assert ssm.get("/still")["Value"] == "saved"
