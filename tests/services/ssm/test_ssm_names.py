"""Parameter names, ARNs, selectors, labels and paths (pure functions)."""

from __future__ import annotations

import pytest

from strongroom.errors import ServiceError
from strongroom.services.ssm.names import (
    check_name,
    check_path,
    parameter_arn,
    parse_ref,
    valid_label,
)

ACCT, REGION = "111122223333", "us-east-1"


def _code(fn: object, *args: object, **kw: object) -> str:
    with pytest.raises(ServiceError) as info:
        fn(*args, **kw)  # type: ignore[operator]
    return info.value.code


def test_arn_is_the_same_with_and_without_leading_slash() -> None:
    assert parameter_arn(REGION, ACCT, "a") == f"arn:aws:ssm:{REGION}:{ACCT}:parameter/a"
    assert parameter_arn(REGION, ACCT, "/a/b") == f"arn:aws:ssm:{REGION}:{ACCT}:parameter/a/b"


@pytest.mark.parametrize(
    "name", ["db", "/app/db/url", "a.b-c_d", "/" + "/".join(f"L{i}" for i in range(15))]
)
def test_valid_names(name: str) -> None:
    check_name(name, REGION, ACCT, for_write=True)


@pytest.mark.parametrize(
    "name",
    [
        "has space",
        "semi;colon",
        "/a//b",
        "/a/b/",
        "a@b",
        "awsThing",
        "/aws/x",
        "SSM-param",
        "/Ssm/x",
    ],
)
def test_invalid_names_are_validation_errors(name: str) -> None:
    assert _code(check_name, name, REGION, ACCT, for_write=True) == "ValidationException"


def test_reserved_prefix_is_tolerated_for_reads() -> None:
    check_name("/aws/service/ami", REGION, ACCT, for_write=False)


def test_relative_path_must_be_fully_qualified() -> None:
    with pytest.raises(ServiceError) as info:
        check_name("a/b", REGION, ACCT, for_write=True)
    assert "fully qualified" in info.value.message


def test_sixteen_levels_is_too_deep() -> None:
    name = "/" + "/".join(f"L{i}" for i in range(16))
    assert _code(check_name, name, REGION, ACCT, for_write=True) == (
        "HierarchyLevelLimitExceededException"
    )


def test_length_limit_counts_the_arn() -> None:
    prefix = len(parameter_arn(REGION, ACCT, "/"))  # "arn:…:parameter/"
    ok = "/" + "x" * (1011 - prefix)
    check_name(ok, REGION, ACCT, for_write=True)
    assert _code(check_name, ok + "x", REGION, ACCT, for_write=True) == "ValidationException"


def test_selectors_and_arns() -> None:
    ref = parse_ref("/a/b:3", ACCT, REGION)
    assert (ref.name, ref.version, ref.label, ref.selector) == ("/a/b", 3, None, ":3")
    ref = parse_ref("/a/b:prod", ACCT, REGION)
    assert (ref.label, ref.selector) == ("prod", ":prod")
    arn = f"arn:aws:ssm:{REGION}:444455556666:parameter/shared/x"
    ref = parse_ref(arn + ":2", ACCT, REGION)
    assert (ref.account, ref.name, ref.version, ref.by_arn, ref.requested) == (
        "444455556666",
        "/shared/x",
        2,
        True,
        arn,
    )
    assert parse_ref(f"arn:aws:ssm:{REGION}:{ACCT}:parameter/top", ACCT, REGION).candidates() == (
        "/top",
        "top",
    )
    for bad in ("a:1:2", "a:", f"arn:aws:ssm:eu-west-1:{ACCT}:parameter/x", "arn:aws:s3:::b"):
        assert _code(parse_ref, bad, ACCT, REGION) == "ValidationException"


@pytest.mark.parametrize(
    ("label", "ok"),
    [
        ("prod", True),
        ("Release-1.2_x", True),
        ("1st", False),
        ("awsy", False),
        ("SSMlabel", False),
        ("with space", False),
        ("a/b", False),
        ("x" * 100, True),
        ("x" * 101, False),
    ],
)
def test_label_rules(label: str, ok: bool) -> None:
    assert valid_label(label) is ok


def test_paths() -> None:
    assert check_path("/") == "/"
    assert check_path("/a/b") == "/a/b/"
    assert check_path("/a/b/") == "/a/b/"
    for bad in ("a/b", "", "/a//b", "/a b"):
        assert _code(check_path, bad) == "ValidationException"
