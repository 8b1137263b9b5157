"""The event-pattern matcher, table-tested against the EventBridge User Guide
("Content filtering in Amazon EventBridge event patterns", "Comparison
operators for use in event patterns") examples."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.events.pattern import InvalidPattern, compile_pattern, matches, parse_pattern

EC2_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {
        "instance-id": "i-1234567890abcdef0",
        "state": "terminated",
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.123",
        "FileName": "image.PNG",
        "location": "arn:aws:ec2:us-west-1:123456789012:instance/i-1",
        "tags": ["prod", "web"],
        "nested": {"level": {"deep": "yes"}},
        "flag": True,
        "nothing": None,
        "empty": "",
        "items": [{"kind": "a", "size": 1}, {"kind": "b", "size": 20}],
    },
}


def d(**fields: Any) -> dict[str, Any]:
    return {"detail": fields}


CASES: list[tuple[str, dict[str, Any], bool]] = [
    # exact values; arrays in patterns are OR
    ("exact source", {"source": ["aws.ec2"]}, True),
    ("exact source other", {"source": ["aws.s3"]}, False),
    ("array is OR", {"source": ["aws.s3", "aws.ec2"]}, True),
    ("AND across fields", {"source": ["aws.ec2"], "detail-type": ["nope"]}, False),
    ("case sensitive", {"source": ["AWS.EC2"]}, False),
    ("nested detail", d(state=["terminated"]), True),
    ("deep nesting", d(nested={"level": {"deep": ["yes"]}}), True),
    ("deep nesting miss", d(nested={"level": {"deep": ["no"]}}), False),
    ("number exact", d(**{"c-count": [5]}), True),
    ("number exact as float", d(**{"c-count": [5.0]}), True),
    ("number is not string", d(**{"c-count": ["5"]}), False),
    ("boolean", d(flag=[True]), True),
    ("boolean is not number", d(flag=[1]), False),
    ("null", d(nothing=[None]), True),
    ("empty string", d(empty=[""]), True),
    ("null does not match empty string", d(empty=[None]), False),
    # arrays in events: any element
    (
        "event array any element",
        {"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]},
        True,
    ),
    ("event array of strings", d(tags=["web"]), True),
    ("event array no element", d(tags=["dev"]), False),
    ("array of objects", d(items={"kind": ["b"]}), True),
    ("array of objects miss", d(items={"kind": ["c"]}), False),
    # prefix / suffix / equals-ignore-case
    ("prefix time", {"time": [{"prefix": "2017-12-22"}]}, True),
    ("prefix miss", {"time": [{"prefix": "2018"}]}, False),
    ("prefix ignore case", d(state=[{"prefix": {"equals-ignore-case": "TERM"}}]), True),
    ("suffix", d(FileName=[{"suffix": ".PNG"}]), True),
    ("suffix case sensitive", d(FileName=[{"suffix": ".png"}]), False),
    ("suffix ignore case", d(FileName=[{"suffix": {"equals-ignore-case": ".png"}}]), True),
    ("equals-ignore-case", d(state=[{"equals-ignore-case": "TERMINATED"}]), True),
    ("prefix on number never", d(**{"c-count": [{"prefix": "5"}]}), False),
    # anything-but
    ("anything-but string", d(state=[{"anything-but": "initializing"}]), True),
    ("anything-but same", d(state=[{"anything-but": "terminated"}]), False),
    ("anything-but list", d(state=[{"anything-but": ["stopped", "overloaded"]}]), True),
    ("anything-but list hit", d(state=[{"anything-but": ["stopped", "terminated"]}]), False),
    ("anything-but number", d(**{"x-limit": [{"anything-but": 123}]}), True),
    ("anything-but number hit", d(**{"c-count": [{"anything-but": [5, 6]}]}), False),
    ("anything-but prefix", {"region": [{"anything-but": {"prefix": "us-"}}]}, False),
    ("anything-but prefix other", {"region": [{"anything-but": {"prefix": "eu-"}}]}, True),
    ("anything-but suffix", d(FileName=[{"anything-but": {"suffix": ".txt"}}]), True),
    ("anything-but suffix hit", d(FileName=[{"anything-but": {"suffix": ".PNG"}}]), False),
    (
        "anything-but ignore case",
        d(state=[{"anything-but": {"equals-ignore-case": "TERMINATED"}}]),
        False,
    ),
    ("anything-but wildcard", d(location=[{"anything-but": {"wildcard": "*/lib/*"}}]), True),
    (
        "anything-but wildcard hit",
        d(location=[{"anything-but": {"wildcard": "*instance/*"}}]),
        False,
    ),
    ("anything-but missing field", d(missing=[{"anything-but": "x"}]), False),
    # numeric
    ("numeric range", d(**{"c-count": [{"numeric": [">", 0, "<=", 5]}]}), True),
    ("numeric range upper", d(**{"c-count": [{"numeric": [">", 0, "<", 5]}]}), False),
    ("numeric equals", d(**{"d-count": [{"numeric": ["=", 3]}]}), True),
    ("numeric float", d(**{"x-limit": [{"numeric": [">=", 300]}]}), True),
    ("numeric on string", d(state=[{"numeric": [">", 0]}]), False),
    ("numeric on bool", d(flag=[{"numeric": [">", 0]}]), False),
    # exists
    ("exists true", d(state=[{"exists": True}]), True),
    ("exists true missing", d(missing=[{"exists": True}]), False),
    ("exists false missing", d(missing=[{"exists": False}]), True),
    ("exists false present", d(state=[{"exists": False}]), False),
    ("exists false in missing object", {"detail": {"nope": {"x": [{"exists": False}]}}}, True),
    # wildcard
    ("wildcard", d(location=[{"wildcard": "arn:aws:ec2:*:instance/*"}]), True),
    ("wildcard miss", d(location=[{"wildcard": "arn:aws:s3:*"}]), False),
    ("wildcard whole", d(state=[{"wildcard": "term*ted"}]), True),
    ("wildcard escaped star", d(state=[{"wildcard": "term\\*"}]), False),
    # cidr
    ("cidr", d(**{"source-ip": [{"cidr": "10.0.0.0/24"}]}), True),
    ("cidr miss", d(**{"source-ip": [{"cidr": "10.0.1.0/24"}]}), False),
    # $or
    (
        "$or one branch",
        {"$or": [{"source": ["aws.s3"]}, {"detail": {"state": ["terminated"]}}]},
        True,
    ),
    ("$or no branch", {"$or": [{"source": ["aws.s3"]}, {"detail": {"state": ["running"]}}]}, False),
    (
        "$or with sibling",
        {"source": ["aws.s3"], "$or": [{"region": ["us-west-1"]}, {"account": ["1"]}]},
        False,
    ),
    (
        "$or nested",
        {"detail": {"$or": [{"c-count": [{"numeric": [">", 10]}]}, {"d-count": [3]}]}},
        True,
    ),
    # several matchers on one field (OR)
    ("mixed matchers", d(state=["running", {"prefix": "term"}]), True),
]


@pytest.mark.parametrize(
    ("pattern", "expected"), [(p, e) for _, p, e in CASES], ids=[n for n, _, _ in CASES]
)
def test_pattern_matches_like_eventbridge(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(compile_pattern(pattern), EC2_EVENT) is expected


INVALID: list[tuple[str, Any, str]] = [
    ("not an object", ["aws.ec2"], "object"),
    ("empty object", {}, "Empty objects"),
    ("leaf not array", {"source": "aws.ec2"}, "array or an object"),
    ("empty array", {"source": []}, "Empty arrays"),
    ("unknown operator", {"source": [{"contains": "x"}]}, "Unrecognized match type contains"),
    ("two keys", {"source": [{"prefix": "a", "suffix": "b"}]}, "exactly one key"),
    ("prefix number", {"source": [{"prefix": 1}]}, "prefix match pattern must be a string"),
    ("numeric op", {"n": [{"numeric": ["~", 1]}]}, "Unrecognized numeric range operator"),
    ("numeric value", {"n": [{"numeric": [">", "1"]}]}, "must be numeric"),
    ("numeric length", {"n": [{"numeric": [">", 1, "<"]}]}, "one or two comparisons"),
    ("exists value", {"n": [{"exists": "yes"}]}, "exists match pattern must be true or false"),
    ("wildcard double star", {"n": [{"wildcard": "a**b"}]}, "Consecutive wildcard"),
    ("anything-but mixed", {"n": [{"anything-but": ["a", 1]}]}, "all strings or all numbers"),
    (
        "anything-but op",
        {"n": [{"anything-but": {"numeric": [">", 1]}}]},
        "Unsupported anything-but",
    ),
    ("$or one branch", {"$or": [{"source": ["a"]}]}, "at least 2"),
    ("bad cidr", {"ip": [{"cidr": "10.0.0.0/99"}]}, "Malformed CIDR"),
    ("nested nested array", {"a": [["x"]]}, "string, number, null or object"),
]


@pytest.mark.parametrize(
    ("pattern", "reason"), [(p, r) for _, p, r in INVALID], ids=[n for n, _, _ in INVALID]
)
def test_invalid_patterns_are_refused_with_a_reason(pattern: Any, reason: str) -> None:
    with pytest.raises(InvalidPattern, match=reason):
        compile_pattern(pattern)


def test_parse_pattern_refuses_bad_json() -> None:
    with pytest.raises(InvalidPattern, match="not valid JSON"):
        parse_pattern("{source: aws}")


def test_parameter_store_change_pattern() -> None:
    event = {
        "source": "aws.ssm",
        "detail-type": "Parameter Store Change",
        "detail": {"name": "/app/db/password", "operation": "Update", "type": "SecureString"},
    }
    pattern = parse_pattern(
        '{"source":["aws.ssm"],"detail-type":["Parameter Store Change"],'
        '"detail":{"name":[{"prefix":"/app/"}],"operation":["Create","Update"]}}'
    )
    assert matches(pattern, event)
    event["detail"]["operation"] = "Delete"
    assert not matches(pattern, event)
