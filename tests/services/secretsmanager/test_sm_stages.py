"""UpdateSecretVersionStage and ListSecretVersionIds: AWS's label move rules."""

from __future__ import annotations

from tests.services.secretsmanager.sm_support import SmEnv


def _three(sm: SmEnv) -> tuple[str, str, str]:
    v1 = sm.secret("s", "one")["VersionId"]
    v2 = sm.call("PutSecretValue", SecretId="s", SecretString="two")["VersionId"]
    v3 = sm.call("PutSecretValue", SecretId="s", SecretString="three", VersionStages=["x"])[
        "VersionId"
    ]
    return v1, v2, v3


def test_moving_current_moves_previous(sm: SmEnv) -> None:
    _, v2, v3 = _three(sm)
    sm.call(
        "UpdateSecretVersionStage",
        SecretId="s",
        VersionStage="AWSCURRENT",
        MoveToVersionId=v3,
        RemoveFromVersionId=v2,
    )
    assert sm.stages("s") == {v2: ["AWSPREVIOUS"], v3: ["x", "AWSCURRENT"]}
    assert sm.value("s")["SecretString"] == "three"


def test_moving_an_attached_label_needs_remove_from(sm: SmEnv) -> None:
    _, v2, v3 = _three(sm)
    err = sm.error(
        "UpdateSecretVersionStage", SecretId="s", VersionStage="AWSCURRENT", MoveToVersionId=v3
    )
    assert err.code == "InvalidParameterException"
    assert v2 in err.message
    assert sm.value("s")["VersionId"] == v2


def test_remove_from_must_hold_the_label(sm: SmEnv) -> None:
    v1, _, _ = _three(sm)
    err = sm.error(
        "UpdateSecretVersionStage",
        SecretId="s",
        VersionStage="x",
        MoveToVersionId=v1,
        RemoveFromVersionId=v1,
    )
    assert err.code == "InvalidParameterException"


def test_current_can_only_be_moved(sm: SmEnv) -> None:
    _, v2, _ = _three(sm)
    err = sm.error(
        "UpdateSecretVersionStage", SecretId="s", VersionStage="AWSCURRENT", RemoveFromVersionId=v2
    )
    assert err.code == "InvalidParameterException"


def test_custom_label_attach_and_remove(sm: SmEnv) -> None:
    v1, v2, v3 = _three(sm)
    sm.call("UpdateSecretVersionStage", SecretId="s", VersionStage="blue", MoveToVersionId=v1)
    assert "blue" in sm.stages("s")[v1]
    sm.call("UpdateSecretVersionStage", SecretId="s", VersionStage="x", RemoveFromVersionId=v3)
    assert v3 not in sm.stages("s")  # no labels left: deprecated
    both = sm.call("ListSecretVersionIds", SecretId="s", IncludeDeprecated=True)["Versions"]
    assert {v["VersionId"] for v in both} == {v1, v2, v3}
    labelled = sm.call("ListSecretVersionIds", SecretId="s")["Versions"]
    assert {v["VersionId"] for v in labelled} == {v1, v2}


def test_unknown_version_is_refused(sm: SmEnv) -> None:
    _three(sm)
    err = sm.error(
        "UpdateSecretVersionStage", SecretId="s", VersionStage="y", MoveToVersionId="9" * 32
    )
    assert err.code == "InvalidParameterException"


def test_at_most_twenty_labels_per_version(sm: SmEnv) -> None:
    v1 = sm.secret("many", "v")["VersionId"]
    for i in range(19):
        sm.call(
            "UpdateSecretVersionStage", SecretId="many", VersionStage=f"l{i}", MoveToVersionId=v1
        )
    err = sm.error(
        "UpdateSecretVersionStage", SecretId="many", VersionStage="l19", MoveToVersionId=v1
    )
    assert err.code == "LimitExceededException"


def test_list_versions_pages_newest_first(sm: SmEnv) -> None:
    ids = [sm.secret("p", "v0")["VersionId"]]
    for i in range(4):
        sm.clock.advance(1)
        ids.append(
            sm.call(
                "PutSecretValue", SecretId="p", SecretString=f"v{i + 1}", VersionStages=[f"s{i}"]
            )["VersionId"]
        )
    first = sm.call("ListSecretVersionIds", SecretId="p", MaxResults=2)
    assert [v["VersionId"] for v in first["Versions"]] == ids[::-1][:2]
    second = sm.call(
        "ListSecretVersionIds", SecretId="p", MaxResults=2, NextToken=first["NextToken"]
    )
    third = sm.call(
        "ListSecretVersionIds", SecretId="p", MaxResults=2, NextToken=second["NextToken"]
    )
    assert "NextToken" not in third
    seen = [v["VersionId"] for page in (first, second, third) for v in page["Versions"]]
    assert seen == ids[::-1]
    bad = sm.error("ListSecretVersionIds", SecretId="p", NextToken="garbage")
    assert bad.code == "InvalidNextTokenException"


def test_old_deprecated_versions_are_pruned_beyond_one_hundred(sm: SmEnv) -> None:
    sm.secret("prune", "v0")
    for i in range(105):
        sm.call("PutSecretValue", SecretId="prune", SecretString=f"v{i + 1}")
    all_versions = sm.call("ListSecretVersionIds", SecretId="prune", IncludeDeprecated=True)
    # Versions younger than 24 hours are kept.
    assert len(all_versions["Versions"]) == 100
    assert "NextToken" in all_versions
    sm.clock.advance(2 * 86400)
    sm.call("PutSecretValue", SecretId="prune", SecretString="last")
    count = 0
    token = None
    while True:
        params = {"SecretId": "prune", "IncludeDeprecated": True}
        if token:
            params["NextToken"] = token
        page = sm.call("ListSecretVersionIds", **params)
        count += len(page["Versions"])
        token = page.get("NextToken")
        if not token:
            break
    assert count == 100
    values = [k for k, _ in sm.store.scan("secretsmanager/") if "/value/" in k]
    assert len(values) == 100
