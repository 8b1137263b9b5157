"""Labels, deletion, tags and service settings."""

from __future__ import annotations

from typing import Any

import pytest
from tests.services.ssm.ssm_support import SsmEnv, allow
from tests.support.fake_platform import ACCOUNT

from strongroom.errors import ServiceError

TIER = "/ssm/parameter-store/default-parameter-tier"
THROUGHPUT = "/ssm/parameter-store/high-throughput-enabled"


def test_labels_move_between_versions(ssm: SsmEnv) -> None:
    ssm.put("/l", "1")
    ssm.call("PutParameter", Name="/l", Value="2", Overwrite=True)
    out = ssm.call("LabelParameterVersion", Name="/l", Labels=["prod", "1bad", "awsx", "ok"])
    assert out == {"InvalidLabels": ["1bad", "awsx"], "ParameterVersion": 2}
    ssm.call("LabelParameterVersion", Name="/l", ParameterVersion=1, Labels=["prod"])
    history = {
        h["Version"]: h.get("Labels", [])
        for h in ssm.call("GetParameterHistory", Name="/l")["Parameters"]
    }
    assert history == {1: ["prod"], 2: ["ok"]}
    assert ssm.error("LabelParameterVersion", Name="/l", ParameterVersion=5, Labels=["x"]).code == (
        "ParameterVersionNotFound"
    )
    assert ssm.error("LabelParameterVersion", Name="/none", Labels=["x"]).code == (
        "ParameterNotFound"
    )


def test_ten_labels_per_version(ssm: SsmEnv) -> None:
    ssm.put("/l")
    ssm.call("LabelParameterVersion", Name="/l", Labels=[f"l{i}" for i in range(10)])
    err = ssm.error("LabelParameterVersion", Name="/l", Labels=["eleven"])
    assert err.code == "ParameterVersionLabelLimitExceeded"
    history = ssm.call("GetParameterHistory", Name="/l")["Parameters"][0]
    assert "eleven" not in history["Labels"]  # nothing was applied


def test_unlabel(ssm: SsmEnv) -> None:
    ssm.put("/u")
    ssm.call("LabelParameterVersion", Name="/u", Labels=["a", "b"])
    out = ssm.call("UnlabelParameterVersion", Name="/u", ParameterVersion=1, Labels=["a", "zz"])
    assert out == {"RemovedLabels": ["a"], "InvalidLabels": ["zz"]}
    assert ssm.error("GetParameter", Name="/u:a").code == "ParameterVersionNotFound"
    assert ssm.get("/u:b")["Version"] == 1
    err = ssm.error("UnlabelParameterVersion", Name="/u", ParameterVersion=3, Labels=["b"])
    assert err.code == "ParameterVersionNotFound"


def test_delete_parameter_removes_everything(ssm: SsmEnv) -> None:
    ssm.put("/d", "1", Tags=[{"Key": "a", "Value": "b"}])
    ssm.call("PutParameter", Name="/d", Value="2", Overwrite=True)
    ssm.call("DeleteParameter", Name="/d")
    assert ssm.error("GetParameter", Name="/d").code == "ParameterNotFound"
    assert ssm.error("DeleteParameter", Name="/d").code == "ParameterNotFound"
    assert not [k for k in ssm.store.list("ssm/") if "/d" in k and "counts" not in k]
    # Re-created, it starts again at version 1, untagged.
    ssm.put("/d", "new")
    assert ssm.get("/d")["Version"] == 1
    assert ssm.call("ListTagsForResource", ResourceType="Parameter", ResourceId="/d") == {
        "TagList": []
    }


def test_delete_parameters(ssm: SsmEnv) -> None:
    ssm.put("/x")
    ssm.put("/y")
    out = ssm.call("DeleteParameters", Names=["/x", "/missing", "/y", "/x", "bad name"])
    assert out == {"DeletedParameters": ["/x", "/y"], "InvalidParameters": ["/missing", "bad name"]}
    assert ssm.call("DescribeParameters")["Parameters"] == []


def test_delete_needs_permission(ssm: SsmEnv) -> None:
    ssm.put("/keep")
    user = ssm.user("reader", allow(["ssm:GetParameter", "ssm:DeleteParameters"]))
    with pytest.raises(ServiceError) as info:
        ssm.call("DeleteParameter", principal=user, Name="/keep")
    assert info.value.code == "AccessDeniedException"
    assert ssm.call("DeleteParameters", principal=user, Names=["/keep"])["DeletedParameters"] == [
        "/keep"
    ]


def test_tags(ssm: SsmEnv) -> None:
    ssm.put("/t")
    tag: dict[str, Any] = {"ResourceType": "Parameter", "ResourceId": "/t"}
    ssm.call(
        "AddTagsToResource", **tag, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    )
    ssm.call("AddTagsToResource", **tag, Tags=[{"Key": "a", "Value": "3"}])
    assert ssm.call("ListTagsForResource", **tag)["TagList"] == [
        {"Key": "a", "Value": "3"},
        {"Key": "b", "Value": "2"},
    ]
    ssm.call("RemoveTagsFromResource", **tag, TagKeys=["a", "nope"])
    assert ssm.call("ListTagsForResource", **tag)["TagList"] == [{"Key": "b", "Value": "2"}]
    err = ssm.error(
        "AddTagsToResource", **tag, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    )
    assert err.code == "TooManyTagsError"
    assert ssm.error("ListTagsForResource", ResourceType="Parameter", ResourceId="/no").code == (
        "InvalidResourceId"
    )
    assert ssm.error("ListTagsForResource", ResourceType="Document", ResourceId="/t").code == (
        "InvalidResourceType"
    )
    arn = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/t"
    assert ssm.call("ListTagsForResource", ResourceType="Parameter", ResourceId=arn)["TagList"]


def test_tagging_is_authorized_with_request_tags(ssm: SsmEnv) -> None:
    ssm.put("/t")
    user = ssm.user(
        "tagger",
        allow(
            "ssm:AddTagsToResource",
            Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}},
        ),
    )
    ssm.call(
        "AddTagsToResource",
        principal=user,
        ResourceType="Parameter",
        ResourceId="/t",
        Tags=[{"Key": "team", "Value": "x"}],
    )
    with pytest.raises(ServiceError) as info:
        ssm.call(
            "AddTagsToResource",
            principal=user,
            ResourceType="Parameter",
            ResourceId="/t",
            Tags=[{"Key": "cost", "Value": "x"}],
        )
    assert info.value.code == "AccessDeniedException"


def test_service_settings(ssm: SsmEnv) -> None:
    setting = ssm.call("GetServiceSetting", SettingId=TIER)["ServiceSetting"]
    assert setting["SettingValue"] == "Standard" and setting["Status"] == "Default"
    assert setting["ARN"] == f"arn:aws:ssm:us-east-1:{ACCOUNT}:servicesetting{TIER}"
    ssm.call("UpdateServiceSetting", SettingId=setting["ARN"], SettingValue="Intelligent-Tiering")
    setting = ssm.call("GetServiceSetting", SettingId=TIER)["ServiceSetting"]
    assert setting["SettingValue"] == "Intelligent-Tiering" and setting["Status"] == "Customized"
    assert setting["LastModifiedUser"] == ssm.admin.arn
    assert setting["LastModifiedDate"] == ssm.clock.now
    assert ssm.put("/big", "x" * 5000)["Tier"] == "Advanced"
    reset = ssm.call("ResetServiceSetting", SettingId=TIER)["ServiceSetting"]
    assert reset["SettingValue"] == "Standard" and reset["Status"] == "Default"
    ssm.call("UpdateServiceSetting", SettingId=THROUGHPUT, SettingValue="true")
    assert (
        ssm.call("GetServiceSetting", SettingId=THROUGHPUT)["ServiceSetting"]["SettingValue"]
        == "true"
    )
    for setting_id, value in ((TIER, "Gold"), (THROUGHPUT, "yes")):
        err = ssm.error("UpdateServiceSetting", SettingId=setting_id, SettingValue=value)
        assert err.code == "ValidationException"
    assert ssm.error("GetServiceSetting", SettingId="/ssm/other").code == "ServiceSettingNotFound"
    # Settings are per Region.
    other = ssm.call("GetServiceSetting", SettingId=THROUGHPUT, region="eu-west-1")
    assert other["ServiceSetting"]["SettingValue"] == "false"
