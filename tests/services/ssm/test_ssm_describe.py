"""DescribeParameters: every filter key and option, legacy Filters, errors, pagination."""

from __future__ import annotations

from typing import Any

import pytest
from tests.services.ssm.ssm_support import SsmEnv


@pytest.fixture()
def many(ssm: SsmEnv) -> SsmEnv:
    key = ssm.kms_key()
    ssm.put("/app/db/url", "u", Tags=[{"Key": "env", "Value": "prod"}])
    ssm.put("/app/db/pass", "p", "SecureString", KeyId=key, Tags=[{"Key": "env", "Value": "dev"}])
    ssm.put("/app/flags", "a,b", "StringList", Tier="Advanced")
    ssm.put("/app/ami", "ami-0123abcd", DataType="aws:ec2:image")
    ssm.put("/web/port", "80", Tags=[{"Key": "owner", "Value": "web-team"}])
    ssm.put("plain", "x", "SecureString")
    ssm.key_arn = key  # type: ignore[attr-defined]
    return ssm


def _names(ssm: SsmEnv, **params: Any) -> list[str]:
    params.setdefault("MaxResults", 50)
    return [p["Name"] for p in ssm.call("DescribeParameters", **params)["Parameters"]]


def _pf(key: str, values: list[str], option: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"Key": key, "Values": values}
    if option:
        item["Option"] = option
    return item


def test_metadata_shape(many: SsmEnv) -> None:
    out = many.call("DescribeParameters", MaxResults=50)["Parameters"]
    secret = next(p for p in out if p["Name"] == "/app/db/pass")
    assert secret["Type"] == "SecureString" and secret["KeyId"] == many.key_arn  # type: ignore[attr-defined]
    assert "Value" not in secret
    assert next(p for p in out if p["Name"] == "plain")["KeyId"] == "alias/aws/ssm"
    flags = next(p for p in out if p["Name"] == "/app/flags")
    assert flags["Tier"] == "Advanced" and flags["Policies"] == [] and "KeyId" not in flags


def test_name_filter_options(many: SsmEnv) -> None:
    assert _names(many, ParameterFilters=[_pf("Name", ["/app/db/url"])]) == ["/app/db/url"]
    # The leading slash is optional in Name values.
    assert _names(many, ParameterFilters=[_pf("Name", ["app/db/url"])]) == ["/app/db/url"]
    assert _names(many, ParameterFilters=[_pf("Name", ["/app/db"], "BeginsWith")]) == [
        "/app/db/pass",
        "/app/db/url",
    ]
    assert _names(many, ParameterFilters=[_pf("Name", ["port"], "Contains")]) == ["/web/port"]


def test_path_filter(many: SsmEnv) -> None:
    assert _names(many, ParameterFilters=[_pf("Path", ["/app"])]) == [
        "/app/ami",
        "/app/flags",
    ]
    assert _names(many, ParameterFilters=[_pf("Path", ["/app"], "Recursive")]) == [
        "/app/ami",
        "/app/db/pass",
        "/app/db/url",
        "/app/flags",
    ]
    assert _names(many, ParameterFilters=[_pf("Path", ["/"], "OneLevel")]) == ["plain"]
    assert _names(many, ParameterFilters=[_pf("Path", ["/app", "/web"], "Recursive")]) == [
        "/app/ami",
        "/app/db/pass",
        "/app/db/url",
        "/app/flags",
        "/web/port",
    ]


def test_type_key_tier_datatype_filters(many: SsmEnv) -> None:
    assert _names(many, ParameterFilters=[_pf("Type", ["SecureString"])]) == [
        "/app/db/pass",
        "plain",
    ]
    assert _names(many, ParameterFilters=[_pf("Type", ["String"], "BeginsWith")]) == [
        "/app/ami",
        "/app/db/url",
        "/app/flags",
        "/web/port",
    ]
    assert _names(many, ParameterFilters=[_pf("KeyId", ["alias/aws/ssm"])]) == ["plain"]
    assert _names(many, ParameterFilters=[_pf("Tier", ["Advanced"])]) == ["/app/flags"]
    assert _names(many, ParameterFilters=[_pf("DataType", ["aws:ec2:image"])]) == ["/app/ami"]


def test_tag_filters(many: SsmEnv) -> None:
    assert _names(many, ParameterFilters=[_pf("tag:env", ["prod"])]) == ["/app/db/url"]
    assert _names(many, ParameterFilters=[{"Key": "tag:env"}]) == ["/app/db/pass", "/app/db/url"]
    assert _names(many, ParameterFilters=[_pf("tag:owner", ["web"], "BeginsWith")]) == ["/web/port"]


def test_filters_combine(many: SsmEnv) -> None:
    both = [_pf("Path", ["/app"], "Recursive"), _pf("Type", ["String"])]
    assert _names(many, ParameterFilters=both) == ["/app/ami", "/app/db/url"]


def test_legacy_filters(many: SsmEnv) -> None:
    assert _names(many, Filters=[{"Key": "Name", "Values": ["/app/db"]}]) == [
        "/app/db/pass",
        "/app/db/url",
    ]
    assert _names(many, Filters=[{"Key": "Type", "Values": ["StringList"]}]) == ["/app/flags"]
    err = many.error(
        "DescribeParameters",
        Filters=[{"Key": "Type", "Values": ["String"]}],
        ParameterFilters=[_pf("Type", ["String"])],
    )
    assert err.code == "ValidationException"


@pytest.mark.parametrize(
    ("flt", "code"),
    [
        (_pf("Label", ["x"]), "InvalidFilterKey"),
        (_pf("Colour", ["x"]), "InvalidFilterKey"),
        (_pf("Path", ["/app"], "Equals"), "InvalidFilterOption"),
        (_pf("Type", ["String"], "Contains"), "InvalidFilterOption"),
        (_pf("Type", ["Number"]), "InvalidFilterValue"),
        (_pf("Tier", ["Gold"]), "InvalidFilterValue"),
        (_pf("Path", ["app"]), "InvalidFilterValue"),
        ({"Key": "Name"}, "InvalidFilterValue"),
    ],
)
def test_filter_errors(many: SsmEnv, flt: dict[str, Any], code: str) -> None:
    assert many.error("DescribeParameters", ParameterFilters=[flt]).code == code


def test_duplicate_filter_keys(many: SsmEnv) -> None:
    err = many.error(
        "DescribeParameters", ParameterFilters=[_pf("Type", ["String"]), _pf("Type", ["String"])]
    )
    assert err.code == "InvalidFilterKey" and "duplicated" in err.message


def test_pagination(many: SsmEnv) -> None:
    first = many.call("DescribeParameters")  # default page size 10
    assert len(first["Parameters"]) == 6 and "NextToken" not in first
    names: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"MaxResults": 4}
        if token:
            params["NextToken"] = token
        out = many.call("DescribeParameters", **params)
        names += [p["Name"] for p in out["Parameters"]]
        token = out.get("NextToken")
        if not token:
            break
    assert names == _names(many)
    assert many.error("DescribeParameters", NextToken="nope").code == "InvalidNextToken"
    # A token of another listing is refused.
    other = many.call("GetParameterHistory", Name="/app/db/url")  # no token: one version
    assert "NextToken" not in other
    with_token = many.call("GetParametersByPath", Path="/", Recursive=True, MaxResults=1)
    err = many.error("DescribeParameters", NextToken=with_token["NextToken"])
    assert err.code == "InvalidNextToken"
    assert many.error("DescribeParameters", MaxResults=51).code == "ValidationException"
