"""Parameter Store over the wire with boto3 and the AWS CLI against a live server:
every operation, the errors clients see, paginators, and that the database
files never hold a SecureString's plaintext."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support.live_server import LiveServer, database_bytes


@pytest.fixture()
def ssm(server: LiveServer) -> Any:
    return server.client("ssm")


@pytest.fixture()
def root() -> str:
    """A fresh path per test: the session server is shared."""
    return f"/it-{uuid.uuid4().hex[:10]}"


def _code(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**params)
    return str(info.value.response["Error"]["Code"])


def test_lifecycle(ssm: Any, root: str) -> None:
    name = f"{root}/url"
    assert ssm.put_parameter(Name=name, Value="one", Type="String", Description="d")["Version"] == 1
    assert _code(ssm.put_parameter, Name=name, Value="x", Type="String") == (
        "ParameterAlreadyExists"
    )
    assert ssm.put_parameter(Name=name, Value="two", Overwrite=True)["Version"] == 2
    got = ssm.get_parameter(Name=name)["Parameter"]
    assert (got["Value"], got["Version"], got["Type"], got["DataType"]) == (
        "two",
        2,
        "String",
        "text",
    )
    assert got["ARN"].endswith(f":parameter{name}")
    assert ssm.get_parameter(Name=f"{name}:1")["Parameter"]["Value"] == "one"
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["stable"])
    assert ssm.get_parameter(Name=f"{name}:stable")["Parameter"]["Selector"] == ":stable"
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [(h["Version"], h.get("Labels")) for h in history] == [(1, ["stable"]), (2, None)]
    removed = ssm.unlabel_parameter_version(Name=name, ParameterVersion=1, Labels=["stable"])
    assert removed["RemovedLabels"] == ["stable"]
    ssm.delete_parameter(Name=name)
    assert _code(ssm.get_parameter, Name=name) == "ParameterNotFound"
    assert _code(ssm.delete_parameter, Name=name) == "ParameterNotFound"


def test_errors_clients_see(ssm: Any, root: str) -> None:
    assert _code(ssm.put_parameter, Name=f"{root}/x", Value="v", Type="String", Tier="Gold") == (
        "ValidationException"
    )
    deep = root + "".join(f"/l{i}" for i in range(15))
    assert _code(ssm.put_parameter, Name=deep, Value="v", Type="String") == (
        "HierarchyLevelLimitExceededException"
    )
    assert _code(ssm.put_parameter, Name="/aws/mine", Value="v", Type="String") == (
        "ValidationException"
    )
    ssm.put_parameter(Name=f"{root}/n", Value="1", Type="String", AllowedPattern=r"^\d+$")
    assert _code(ssm.put_parameter, Name=f"{root}/n", Value="x", Overwrite=True) == (
        "ParameterPatternMismatchException"
    )
    assert (
        _code(ssm.put_parameter, Name=f"{root}/n", Value="1", Type="SecureString", Overwrite=True)
        == "HierarchyTypeMismatchException"
    )
    assert _code(ssm.get_parameter, Name=f"{root}/n:5") == "ParameterVersionNotFound"
    assert (
        _code(
            ssm.put_parameter,
            Name=f"{root}/p",
            Value="v",
            Type="String",
            Policies="[{}]",
            Tier="Advanced",
        )
        == "InvalidPolicyTypeException"
    )
    assert _code(ssm.get_parameters_by_path, Path=root, NextToken="bogus") == "InvalidNextToken"
    assert _code(ssm.describe_parameters, ParameterFilters=[{"Key": "Label", "Values": ["x"]}]) == (
        "InvalidFilterKey"
    )
    assert _code(ssm.list_tags_for_resource, ResourceType="Parameter", ResourceId=f"{root}/no") == (
        "InvalidResourceId"
    )
    assert _code(ssm.get_service_setting, SettingId="/ssm/unknown") == "ServiceSettingNotFound"


def test_paginators_and_filters(ssm: Any, root: str) -> None:
    for i in range(12):
        ssm.put_parameter(Name=f"{root}/p{i:02d}", Value=str(i), Type="String")
    ssm.put_parameter(
        Name=f"{root}/deep/x", Value="x", Type="StringList", Tags=[{"Key": "team", "Value": "core"}]
    )
    pages = ssm.get_paginator("get_parameters_by_path").paginate(
        Path=root, Recursive=True, PaginationConfig={"PageSize": 5}
    )
    names = [p["Name"] for page in pages for p in page["Parameters"]]
    assert len(names) == 13 and names == sorted(names)
    flt = [{"Key": "Path", "Option": "Recursive", "Values": [root]}]
    described = [
        p["Name"]
        for page in ssm.get_paginator("describe_parameters").paginate(
            ParameterFilters=flt, PaginationConfig={"PageSize": 4}
        )
        for p in page["Parameters"]
    ]
    assert described == names
    tagged = ssm.describe_parameters(ParameterFilters=[*flt, {"Key": "tag:team"}])["Parameters"]
    assert [p["Name"] for p in tagged] == [f"{root}/deep/x"]
    got = ssm.get_parameters(Names=[f"{root}/p00", f"{root}/nope"])
    assert [p["Value"] for p in got["Parameters"]] == ["0"]
    assert got["InvalidParameters"] == [f"{root}/nope"]
    out = ssm.delete_parameters(Names=[f"{root}/p00", f"{root}/p01", f"{root}/nope"])
    assert out["DeletedParameters"] == [f"{root}/p00", f"{root}/p01"]


def test_tags_and_settings(ssm: Any, root: str) -> None:
    name = f"{root}/t"
    ssm.put_parameter(Name=name, Value="v", Type="String", Tags=[{"Key": "a", "Value": "1"}])
    ssm.add_tags_to_resource(
        ResourceType="Parameter", ResourceId=name, Tags=[{"Key": "b", "Value": "2"}]
    )
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=["a"])
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert tags == [{"Key": "b", "Value": "2"}]
    setting = "/ssm/parameter-store/high-throughput-enabled"
    ssm.update_service_setting(SettingId=setting, SettingValue="true")
    got = ssm.get_service_setting(SettingId=setting)["ServiceSetting"]
    assert got["SettingValue"] == "true" and got["Status"] == "Customized"
    assert ssm.reset_service_setting(SettingId=setting)["ServiceSetting"]["SettingValue"] == "false"


def test_secure_strings_and_no_plaintext_on_disk(server: LiveServer, ssm: Any, root: str) -> None:
    kms = server.client("kms")
    key = kms.create_key(Description="ssm integration")["KeyMetadata"]["Arn"]
    secrets = {
        f"{root}/default": f"default-{uuid.uuid4().hex}",
        f"{root}/customer": f"customer-{uuid.uuid4().hex}",
        f"{root}/advanced": f"advanced-{uuid.uuid4().hex}" * 100,
    }
    ssm.put_parameter(Name=f"{root}/default", Value=secrets[f"{root}/default"], Type="SecureString")
    ssm.put_parameter(
        Name=f"{root}/customer", Value=secrets[f"{root}/customer"], Type="SecureString", KeyId=key
    )
    ssm.put_parameter(
        Name=f"{root}/advanced",
        Value=secrets[f"{root}/advanced"],
        Type="SecureString",
        KeyId=key,
        Tier="Advanced",
    )
    for name, value in secrets.items():
        assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == value
        assert ssm.get_parameter(Name=name)["Parameter"]["Value"] != value
    by_path = ssm.get_parameters_by_path(Path=root, WithDecryption=True)["Parameters"]
    assert {p["Name"]: p["Value"] for p in by_path} == secrets
    meta = {
        p["Name"]: p
        for p in ssm.describe_parameters(ParameterFilters=[{"Key": "Path", "Values": [root]}])[
            "Parameters"
        ]
    }
    assert meta[f"{root}/default"]["KeyId"] == "alias/aws/ssm"
    assert meta[f"{root}/customer"]["KeyId"] == key
    assert kms.describe_key(KeyId="alias/aws/ssm")["KeyMetadata"]["KeyManager"] == "AWS"
    raw = database_bytes(server.data_dir)
    assert raw, "database files not found"
    for value in secrets.values():
        assert value.encode() not in raw
        assert value[:40].encode() not in raw


def test_decryption_needs_kms_permission(server: LiveServer, ssm: Any, root: str) -> None:
    kms = server.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    ssm.put_parameter(Name=f"{root}/k", Value="hidden", Type="SecureString", KeyId=key)
    iam = server.client("iam")
    user = f"ssm-reader-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user,
        PolicyName="ssm",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}],
            }
        ),
    )
    reader = server.client("ssm", iam.create_access_key(UserName=user)["AccessKey"])
    assert reader.get_parameter(Name=f"{root}/k")["Parameter"]["Value"] != "hidden"
    with pytest.raises(ClientError) as info:
        reader.get_parameter(Name=f"{root}/k", WithDecryption=True)
    error = info.value.response["Error"]
    assert error["Code"] == "AccessDeniedException" and "kms:Decrypt" in error["Message"]


def test_aws_cli(server: LiveServer, root: str, tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_SHARED_CREDENTIALS_FILE": str(server.data_dir / "admin-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    aws = str(Path(sys.executable).with_name("aws"))

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [aws, "--profile", "strongroom", "--endpoint-url", server.endpoint, "ssm", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=check,
        )

    out = run(
        "put-parameter",
        "--name",
        f"{root}/cli",
        "--value",
        "from the cli",
        "--type",
        "SecureString",
    )
    assert json.loads(out.stdout) == {"Version": 1, "Tier": "Standard"}
    got = json.loads(run("get-parameter", "--name", f"{root}/cli", "--with-decryption").stdout)
    assert got["Parameter"]["Value"] == "from the cli"
    listed = json.loads(run("get-parameters-by-path", "--path", root).stdout)
    assert [p["Name"] for p in listed["Parameters"]] == [f"{root}/cli"]
    failed = run("get-parameter", "--name", f"{root}/missing", check=False)
    assert failed.returncode != 0 and "ParameterNotFound" in failed.stderr
