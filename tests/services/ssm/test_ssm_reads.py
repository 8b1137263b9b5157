"""GetParameter (selectors), GetParameters, GetParametersByPath, GetParameterHistory."""

from __future__ import annotations

from typing import Any

import pytest
from tests.services.ssm.ssm_support import SsmEnv, allow
from tests.support.fake_platform import ACCOUNT

from strongroom.errors import ServiceError


def _versions(ssm: SsmEnv, name: str, count: int) -> None:
    ssm.put(name, "v1")
    for i in range(2, count + 1):
        ssm.call("PutParameter", Name=name, Value=f"v{i}", Overwrite=True)


def test_get_missing_parameter(ssm: SsmEnv) -> None:
    err = ssm.error("GetParameter", Name="/nope")
    assert err.code == "ParameterNotFound"


def test_version_and_label_selectors(ssm: SsmEnv) -> None:
    _versions(ssm, "/sel", 3)
    ssm.call("LabelParameterVersion", Name="/sel", ParameterVersion=1, Labels=["old"])
    one = ssm.get("/sel:1")
    assert (one["Value"], one["Version"], one["Selector"], one["Name"]) == ("v1", 1, ":1", "/sel")
    assert ssm.get("/sel:old")["Value"] == "v1"
    assert ssm.get("/sel:old")["Selector"] == ":old"
    assert ssm.get("/sel:3")["Value"] == "v3"
    assert "Selector" not in ssm.get("/sel")
    assert ssm.error("GetParameter", Name="/sel:9").code == "ParameterVersionNotFound"
    assert ssm.error("GetParameter", Name="/sel:nolabel").code == "ParameterVersionNotFound"
    assert ssm.error("GetParameter", Name="/sel:1:2").code == "ValidationException"


def test_get_by_own_arn(ssm: SsmEnv) -> None:
    ssm.put("/by/arn", "x")
    ssm.put("flat", "y")
    arn = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/by/arn"
    got = ssm.get(arn)
    assert got["Value"] == "x" and got["Name"] == arn and got["ARN"] == arn
    # parameter/flat is the ARN of the name without a leading slash too.
    assert ssm.get(f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/flat")["Value"] == "y"
    assert ssm.get(arn + ":1")["Selector"] == ":1"


def test_get_parameters(ssm: SsmEnv) -> None:
    _versions(ssm, "/a", 2)
    ssm.put("/b", "b")
    out = ssm.call(
        "GetParameters", Names=["/a", "/b", "/a", "/missing", "/a:1", "/a:7", "bad name"]
    )
    assert [(p["Name"], p["Value"]) for p in out["Parameters"]] == [
        ("/a", "v2"),
        ("/b", "b"),
        ("/a", "v1"),
    ]
    assert out["InvalidParameters"] == ["/missing", "/a:7", "bad name"]


def test_get_parameters_denied_for_one_is_denied(ssm: SsmEnv) -> None:
    ssm.put("/ok", "1")
    ssm.put("/secret", "2")
    user = ssm.user(
        "u", allow("ssm:GetParameters", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/ok")
    )
    assert ssm.call("GetParameters", principal=user, Names=["/ok"])["Parameters"]
    with pytest.raises(ServiceError) as info:
        ssm.call("GetParameters", principal=user, Names=["/ok", "/secret"])
    assert info.value.code == "AccessDeniedException"


def test_get_parameter_authorization_uses_resource_tags(ssm: SsmEnv) -> None:
    ssm.put("/t1", Tags=[{"Key": "team", "Value": "red"}])
    ssm.put("/t2", Tags=[{"Key": "team", "Value": "blue"}])
    user = ssm.user(
        "tagged",
        allow(
            "ssm:GetParameter",
            Condition={"StringEquals": {"aws:ResourceTag/team": "red"}},
        ),
    )
    assert ssm.call("GetParameter", principal=user, Name="/t1")["Parameter"]["Value"] == "v"
    with pytest.raises(ServiceError) as info:
        ssm.call("GetParameter", principal=user, Name="/t2")
    assert info.value.code == "AccessDeniedException"


@pytest.fixture()
def tree(ssm: SsmEnv) -> SsmEnv:
    for name in ("/app/a", "/app/b", "/app/sub/c", "/app/sub/deep/d", "/apple", "/other/x", "top"):
        ssm.put(name, name)
    ssm.put("/app/sec", "s", "SecureString")
    return ssm


def _names(out: dict[str, object]) -> list[str]:
    return [p["Name"] for p in out["Parameters"]]  # type: ignore[attr-defined]


def test_by_path_one_level_and_recursive(tree: SsmEnv) -> None:
    one = tree.call("GetParametersByPath", Path="/app")
    assert _names(one) == ["/app/a", "/app/b", "/app/sec"]
    deep = tree.call("GetParametersByPath", Path="/app/", Recursive=True, MaxResults=10)
    assert _names(deep) == ["/app/a", "/app/b", "/app/sec", "/app/sub/c", "/app/sub/deep/d"]
    root = tree.call("GetParametersByPath", Path="/")
    assert _names(root) == ["/apple", "top"]
    assert tree.call("GetParametersByPath", Path="/app/sub/deep")["Parameters"][0]["Value"] == (
        "/app/sub/deep/d"
    )


def test_by_path_decrypts_only_when_asked(tree: SsmEnv) -> None:
    values = {
        p["Name"]: p["Value"] for p in tree.call("GetParametersByPath", Path="/app")["Parameters"]
    }
    assert values["/app/sec"] != "s"
    plain = tree.call("GetParametersByPath", Path="/app", WithDecryption=True)["Parameters"]
    assert {p["Name"]: p["Value"] for p in plain}["/app/sec"] == "s"


def test_by_path_pagination(tree: SsmEnv) -> None:
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"Path": "/", "Recursive": True, "MaxResults": 3}
        if token:
            params["NextToken"] = token
        out = tree.call("GetParametersByPath", **params)
        seen += _names(out)
        pages += 1
        token = out.get("NextToken")
        if not token:
            break
    assert pages == 3 and len(seen) == 8 and len(set(seen)) == 8
    assert tree.error("GetParametersByPath", Path="/", NextToken="garbage").code == (
        "InvalidNextToken"
    )
    err = tree.error("GetParametersByPath", Path="/", MaxResults=11)
    assert err.code == "ValidationException"


def test_by_path_filters(tree: SsmEnv) -> None:
    secure = tree.call(
        "GetParametersByPath",
        Path="/app",
        ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}],
    )
    assert _names(secure) == ["/app/sec"]
    by_key = tree.call(
        "GetParametersByPath",
        Path="/app",
        ParameterFilters=[{"Key": "KeyId", "Option": "BeginsWith", "Values": ["alias/aws"]}],
    )
    assert _names(by_key) == ["/app/sec"]
    tree.call("PutParameter", Name="/app/a", Value="new", Overwrite=True)
    tree.call("LabelParameterVersion", Name="/app/a", ParameterVersion=1, Labels=["stable"])
    labelled = tree.call(
        "GetParametersByPath",
        Path="/app",
        ParameterFilters=[{"Key": "Label", "Values": ["stable"]}],
    )["Parameters"]
    assert [(p["Name"], p["Value"], p["Selector"]) for p in labelled] == [
        ("/app/a", "/app/a", ":stable")
    ]
    for key, option, code in (
        ("Name", "Equals", "InvalidFilterKey"),
        ("Tier", "Equals", "InvalidFilterKey"),
        ("Label", "BeginsWith", "InvalidFilterOption"),
        ("Type", "Contains", "InvalidFilterOption"),
    ):
        err = tree.error(
            "GetParametersByPath",
            Path="/app",
            ParameterFilters=[{"Key": key, "Option": option, "Values": ["x"]}],
        )
        assert err.code == code, (key, option)
    err = tree.error(
        "GetParametersByPath", Path="/app", ParameterFilters=[{"Key": "Type", "Values": ["Nope"]}]
    )
    assert err.code == "InvalidFilterValue"


def test_by_path_needs_a_valid_path_and_permission(tree: SsmEnv) -> None:
    assert tree.error("GetParametersByPath", Path="app").code == "ValidationException"
    user = tree.user(
        "pathy",
        allow("ssm:GetParametersByPath", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app"),
    )
    assert _names(tree.call("GetParametersByPath", principal=user, Path="/app"))
    with pytest.raises(ServiceError) as info:
        tree.call("GetParametersByPath", principal=user, Path="/other")
    assert info.value.code == "AccessDeniedException"


def test_history(ssm: SsmEnv) -> None:
    ssm.put("/h", "one", Description="first")
    ssm.clock.advance(60)
    ssm.call("PutParameter", Name="/h", Value="two", Overwrite=True, Description="second")
    ssm.call("LabelParameterVersion", Name="/h", ParameterVersion=1, Labels=["a", "b"])
    rows = ssm.call("GetParameterHistory", Name="/h")["Parameters"]
    assert [(r["Version"], r["Value"], r["Description"]) for r in rows] == [
        (1, "one", "first"),
        (2, "two", "second"),
    ]
    assert rows[0]["Labels"] == ["a", "b"] and "Labels" not in rows[1]
    assert rows[1]["LastModifiedDate"] > rows[0]["LastModifiedDate"]
    assert rows[0]["LastModifiedUser"] == ssm.admin.arn
    page = ssm.call("GetParameterHistory", Name="/h", MaxResults=1)
    assert [r["Version"] for r in page["Parameters"]] == [1]
    rest = ssm.call("GetParameterHistory", Name="/h", MaxResults=1, NextToken=page["NextToken"])
    assert [r["Version"] for r in rest["Parameters"]] == [2] and "NextToken" not in rest
    assert ssm.error("GetParameterHistory", Name="/none").code == "ParameterNotFound"
    assert ssm.error("GetParameterHistory", Name="/h", NextToken="x").code == "InvalidNextToken"
