"""ListSecrets (filters, sorting, pagination, IncludePlannedDeletion) and BatchGetSecretValue."""

from __future__ import annotations

from typing import Any

from tests.services.secretsmanager.sm_support import SmEnv, allow


def _names(out: dict[str, Any]) -> list[str]:
    return [s["Name"] for s in out["SecretList"]]


def _fixture(sm: SmEnv) -> None:
    sm.secret(
        "prod/db", "1", Description="Primary Database", Tags=[{"Key": "env", "Value": "prod"}]
    )
    sm.clock.advance(1)
    sm.secret(
        "prod/api", "2", Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "web"}]
    )
    sm.clock.advance(1)
    sm.secret("dev/db", "3", Description="scratch", Tags=[{"Key": "env", "Value": "dev"}])


def test_default_order_is_newest_first(sm: SmEnv) -> None:
    _fixture(sm)
    assert _names(sm.call("ListSecrets")) == ["dev/db", "prod/api", "prod/db"]
    assert _names(sm.call("ListSecrets", SortOrder="asc")) == ["prod/db", "prod/api", "dev/db"]
    assert _names(sm.call("ListSecrets", SortBy="name", SortOrder="asc")) == [
        "dev/db",
        "prod/api",
        "prod/db",
    ]


def test_filters(sm: SmEnv) -> None:
    _fixture(sm)

    def names(*filters: dict[str, Any]) -> list[str]:
        return sorted(_names(sm.call("ListSecrets", Filters=list(filters))))

    assert names({"Key": "name", "Values": ["prod/"]}) == ["prod/api", "prod/db"]
    assert names({"Key": "name", "Values": ["Prod/"]}) == []  # case-sensitive
    assert names({"Key": "description", "Values": ["primary"]}) == ["prod/db"]  # case-insensitive
    assert names({"Key": "tag-key", "Values": ["team"]}) == ["prod/api"]
    assert names({"Key": "tag-value", "Values": ["dev"]}) == ["dev/db"]
    assert names({"Key": "name", "Values": ["!prod"]}) == ["dev/db"]
    assert names({"Key": "name", "Values": ["dev", "prod/api"]}) == ["dev/db", "prod/api"]
    assert names({"Key": "name", "Values": ["prod"]}, {"Key": "tag-key", "Values": ["team"]}) == [
        "prod/api"
    ]
    assert names({"Key": "all", "Values": ["database"]}) == ["prod/db"]
    assert names({"Key": "all", "Values": ["web"]}) == ["prod/api"]
    assert names({"Key": "primary-region", "Values": ["us-east"]}) == [
        "dev/db",
        "prod/api",
        "prod/db",
    ]
    err = sm.error("ListSecrets", Filters=[{"Key": "colour", "Values": ["x"]}])
    assert err.code == "InvalidParameterException"


def test_pagination_and_planned_deletion(sm: SmEnv) -> None:
    for i in range(5):
        sm.secret(f"s{i}", "v")
        sm.clock.advance(1)
    sm.call("DeleteSecret", SecretId="s0")
    first = sm.call("ListSecrets", MaxResults=2)
    second = sm.call("ListSecrets", MaxResults=2, NextToken=first["NextToken"])
    assert _names(first) + _names(second) == ["s4", "s3", "s2", "s1"]
    assert "NextToken" not in second
    with_deleted = sm.call("ListSecrets", IncludePlannedDeletion=True)
    assert "s0" in _names(with_deleted)
    entry = next(s for s in with_deleted["SecretList"] if s["Name"] == "s0")
    assert "DeletedDate" in entry
    # A token from another query is refused.
    err = sm.error("ListSecrets", MaxResults=2, NextToken=first["NextToken"], SortBy="name")
    assert err.code == "InvalidNextTokenException"


def test_list_entry_has_version_stages(sm: SmEnv) -> None:
    created = sm.secret("x", "v")
    entry = sm.call("ListSecrets")["SecretList"][0]
    assert entry["SecretVersionsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}
    assert entry["ARN"] == created["ARN"]


def test_batch_get_by_ids_reports_errors_per_secret(sm: SmEnv) -> None:
    _fixture(sm)
    sm.call("DeleteSecret", SecretId="dev/db")
    out = sm.call("BatchGetSecretValue", SecretIdList=["prod/db", "prod/api", "missing", "dev/db"])
    assert sorted(v["SecretString"] for v in out["SecretValues"]) == ["1", "2"]
    codes = {e["SecretId"]: e["ErrorCode"] for e in out["Errors"]}
    assert codes == {"missing": "ResourceNotFoundException", "dev/db": "InvalidRequestException"}


def test_batch_get_by_filters_pages(sm: SmEnv) -> None:
    _fixture(sm)
    first = sm.call(
        "BatchGetSecretValue", Filters=[{"Key": "tag-value", "Values": ["prod"]}], MaxResults=1
    )
    assert len(first["SecretValues"]) == 1
    second = sm.call(
        "BatchGetSecretValue",
        Filters=[{"Key": "tag-value", "Values": ["prod"]}],
        MaxResults=1,
        NextToken=first["NextToken"],
    )
    got = {first["SecretValues"][0]["Name"], second["SecretValues"][0]["Name"]}
    assert got == {"prod/db", "prod/api"}
    assert "NextToken" not in second


def test_batch_get_parameter_rules(sm: SmEnv) -> None:
    assert sm.error("BatchGetSecretValue").code == "InvalidParameterException"
    err = sm.error(
        "BatchGetSecretValue", SecretIdList=["a"], Filters=[{"Key": "name", "Values": ["a"]}]
    )
    assert err.code == "InvalidParameterException"
    err = sm.error("BatchGetSecretValue", SecretIdList=["a"], MaxResults=2)
    assert "'Filters' must also be specified" in err.message


def test_batch_get_denied_secret_is_an_error_entry(sm: SmEnv) -> None:
    _fixture(sm)
    user = sm.user(
        "reader",
        allow(
            ["secretsmanager:BatchGetSecretValue", "secretsmanager:GetSecretValue"],
            "arn:aws:secretsmanager:*:*:secret:prod/db-*",
        ),
        allow("secretsmanager:BatchGetSecretValue"),
    )
    out = sm.call("BatchGetSecretValue", principal=user, SecretIdList=["prod/db", "prod/api"])
    assert [v["Name"] for v in out["SecretValues"]] == ["prod/db"]
    assert out["Errors"][0]["ErrorCode"] == "AccessDeniedException"
