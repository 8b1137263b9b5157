"""Condition operators, one table row at a time (data: condition_cases.yaml).

Each row is run end to end: a one-statement Allow policy carrying the
condition is evaluated against a request whose context holds the value, so
the row checks parsing, compilation and evaluation together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from strongroom.iam.policy import (
    MalformedPolicy,
    PolicySet,
    RequestInfo,
    evaluate,
    parse_policy,
)

ROWS: list[list[Any]] = yaml.safe_load((Path(__file__).parent / "condition_cases.yaml").read_text())


def _condition_holds(
    op: str, key: str, values: Any, request_value: Any, extra: dict[str, Any]
) -> bool:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": "svc:Act",
                "Resource": "*",
                "Condition": {op: {key: values}},
            },
        }
    )
    context = dict(extra)
    if request_value is not None:
        context[key] = request_value
    request = RequestInfo(
        "svc:Act", "*", "arn:aws:iam::111122223333:user/u", "111122223333", context
    )
    return evaluate(request, PolicySet(identity=[policy])).allowed


def _row_id(row: list[Any]) -> str:
    return f"{row[0]}-{row[3]!r}-{row[4]}"[:80]


def test_table_is_large_and_covers_every_operator() -> None:
    from strongroom.iam.policy import OPERATOR_NAMES

    assert len(ROWS) >= 150
    used = {str(r[0]).split(":")[-1].lower().removesuffix("ifexists") for r in ROWS}
    missing = {name for name in OPERATOR_NAMES if name.lower() not in used}
    assert not missing, f"operators without a case: {missing}"
    assert any(str(r[0]).startswith("ForAllValues:") for r in ROWS)
    assert any(str(r[0]).startswith("ForAnyValue:") for r in ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(r) for r in ROWS])
def test_condition_row(row: list[Any]) -> None:
    op, key, values, request_value, expected = row[:5]
    extra = row[5] if len(row) > 5 else {}
    assert _condition_holds(op, key, values, request_value, extra) is expected


def test_multiple_keys_in_one_operator_are_anded() -> None:
    cond = {"StringEquals": {"aws:PrincipalTag/a": "1", "aws:PrincipalTag/b": "2"}}
    assert _multi(cond, {"aws:PrincipalTag/a": "1", "aws:PrincipalTag/b": "2"})
    assert not _multi(cond, {"aws:PrincipalTag/a": "1", "aws:PrincipalTag/b": "3"})
    assert not _multi(cond, {"aws:PrincipalTag/a": "1"})


def test_multiple_operators_are_anded() -> None:
    cond = {
        "StringEquals": {"aws:PrincipalTag/team": "red"},
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
    }
    assert _multi(cond, {"aws:PrincipalTag/team": "red", "aws:SourceIp": "10.1.1.1"})
    assert not _multi(cond, {"aws:PrincipalTag/team": "red", "aws:SourceIp": "11.1.1.1"})
    assert not _multi(cond, {"aws:PrincipalTag/team": "blue", "aws:SourceIp": "10.1.1.1"})


def test_variables_are_not_substituted_in_numeric_values() -> None:
    # "You can not use a policy variable with the Numeric condition operator"
    with pytest.raises(MalformedPolicy, match="not a number"):
        _multi({"NumericEquals": {"s3:max-keys": "${aws:userid}"}}, {})


def test_unresolved_variable_in_condition_makes_statement_not_apply() -> None:
    allow = {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    assert not _multi(allow, {"aws:ResourceTag/team": "red"})
    # also for a negated operator: the statement is invalid, not "true"
    negated = {"StringNotEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    assert not _multi(negated, {"aws:ResourceTag/team": "red"})


def test_2008_policies_have_no_variables_in_conditions() -> None:
    doc = {
        "Version": "2008-10-17",
        "Statement": {
            "Effect": "Allow",
            "Action": "svc:Act",
            "Resource": "*",
            "Condition": {"StringEquals": {"s3:prefix": "${aws:username}"}},
        },
    }
    policy = parse_policy(doc)
    ctx = {"aws:username": "bob", "s3:prefix": "${aws:username}"}
    req = RequestInfo("svc:Act", "*", "arn:aws:iam::111122223333:user/bob", "111122223333", ctx)
    assert evaluate(req, PolicySet(identity=[policy])).allowed
    req2 = RequestInfo(
        "svc:Act",
        "*",
        "arn:aws:iam::111122223333:user/bob",
        "111122223333",
        {"aws:username": "bob", "s3:prefix": "bob"},
    )
    assert not evaluate(req2, PolicySet(identity=[policy])).allowed


def _multi(condition: dict[str, Any], context: dict[str, Any]) -> bool:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": "svc:Act",
                "Resource": "*",
                "Condition": condition,
            },
        }
    )
    req = RequestInfo("svc:Act", "*", "arn:aws:iam::111122223333:user/u", "111122223333", context)
    return evaluate(req, PolicySet(identity=[policy])).allowed
