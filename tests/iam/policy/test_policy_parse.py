"""Parsing and validation: valid documents, and exact errors for malformed ones."""

from __future__ import annotations

import json
from typing import Any

import pytest

from strongroom.iam.policy import (
    MalformedPolicy,
    PolicyKind,
    parse_policy,
    parse_policy_cached,
)

OK_STATEMENT = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def _doc(**statement: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{**OK_STATEMENT, **statement}]}


def _without(key: str) -> dict[str, Any]:
    st = dict(OK_STATEMENT)
    del st[key]
    return {"Version": "2012-10-17", "Statement": [st]}


RES_OK = {
    "Effect": "Allow",
    "Principal": {"AWS": "111122223333"},
    "Action": "s3:*",
    "Resource": "*",
}


def _res(**statement: Any) -> dict[str, Any]:
    st = {**RES_OK, **statement}
    return {"Version": "2012-10-17", "Statement": [{k: v for k, v in st.items() if v is not None}]}


# (document, kind, substring the message must contain)
MALFORMED: list[tuple[Any, PolicyKind, str]] = [
    ("{not json", PolicyKind.IDENTITY, "not valid JSON"),
    ("[]", PolicyKind.IDENTITY, "must be a JSON object"),
    (
        '{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": []}',
        PolicyKind.IDENTITY,
        "duplicate key 'Version'",
    ),
    ({"Version": "2012-10-17"}, PolicyKind.IDENTITY, "no Statement element"),
    (
        {"Version": "2012-10-17", "Statement": []},
        PolicyKind.IDENTITY,
        "Statement must not be an empty list",
    ),
    (
        {"Version": "2012-10-18", "Statement": [OK_STATEMENT]},
        PolicyKind.IDENTITY,
        'Version must be "2012-10-17" or "2008-10-17"',
    ),
    (
        {"Version": "2012-10-17", "Statement": [OK_STATEMENT], "Extra": 1},
        PolicyKind.IDENTITY,
        "unknown top-level element 'Extra'",
    ),
    (
        {"Version": "2012-10-17", "Id": 5, "Statement": [OK_STATEMENT]},
        PolicyKind.IDENTITY,
        "Id must be a string",
    ),
    (
        {"Version": "2012-10-17", "Statement": ["Allow"]},
        PolicyKind.IDENTITY,
        "statement 1: must be a JSON object",
    ),
    (_doc(Effect="allow"), PolicyKind.IDENTITY, 'statement 1: Effect must be "Allow" or "Deny"'),
    (_without("Effect"), PolicyKind.IDENTITY, "Effect must be"),
    (
        _without("Action"),
        PolicyKind.IDENTITY,
        "statement 1: must have an Action or NotAction element",
    ),
    (_doc(NotAction="s3:PutObject"), PolicyKind.IDENTITY, "has both Action and NotAction"),
    (_doc(Action=[]), PolicyKind.IDENTITY, "Action must not be an empty list"),
    (
        _doc(Action="GetObject"),
        PolicyKind.IDENTITY,
        'Action \'GetObject\' must be "*" or "service:action"',
    ),
    (_doc(Action=["s3:GetObject", 7]), PolicyKind.IDENTITY, "Action values must be strings"),
    (_without("Resource"), PolicyKind.IDENTITY, "must have a Resource or NotResource element"),
    (_doc(NotResource="*"), PolicyKind.IDENTITY, "has both Resource and NotResource"),
    (_doc(Resource="bucket"), PolicyKind.IDENTITY, "Resource 'bucket' must be an ARN or \"*\""),
    (
        _doc(Principal="*"),
        PolicyKind.IDENTITY,
        "an identity policy cannot have a Principal element",
    ),
    (
        _doc(NotPrincipal={"AWS": "111122223333"}),
        PolicyKind.BOUNDARY,
        "a boundary policy cannot have a NotPrincipal",
    ),
    (_doc(Principal="*"), PolicyKind.SESSION, "cannot have a Principal"),
    (_doc(Effects="Allow"), PolicyKind.IDENTITY, "unknown element 'Effects'"),
    (_doc(Sid="has space"), PolicyKind.IDENTITY, "Sid must contain only letters and digits"),
    (_doc(Sid=5), PolicyKind.IDENTITY, "Sid must be a string"),
    (
        {
            "Version": "2012-10-17",
            "Statement": [{**OK_STATEMENT, "Sid": "A"}, {**OK_STATEMENT, "Sid": "A"}],
        },
        PolicyKind.IDENTITY,
        "statement 2 (Sid 'A'): Sid 'A' is used by more than one statement",
    ),
    (
        _doc(Condition={"StringEqualz": {"aws:username": "a"}}),
        PolicyKind.IDENTITY,
        "unknown condition operator 'StringEqualz'",
    ),
    (
        _doc(Condition={"ForSomeValues:StringEquals": {"aws:TagKeys": "a"}}),
        PolicyKind.IDENTITY,
        "unknown condition operator",
    ),
    (
        _doc(Condition={"NullIfExists": {"aws:TokenIssueTime": "true"}}),
        PolicyKind.IDENTITY,
        "Null takes no IfExists",
    ),
    (
        _doc(Condition={"ForAllValues:Null": {"aws:TagKeys": "true"}}),
        PolicyKind.IDENTITY,
        "Null takes no IfExists or set qualifier",
    ),
    (
        _doc(Condition={"Null": {"aws:TokenIssueTime": "maybe"}}),
        PolicyKind.IDENTITY,
        'must be "true" or "false"',
    ),
    (
        _doc(Condition={"Bool": {"aws:SecureTransport": "yes"}}),
        PolicyKind.IDENTITY,
        'Bool value \'yes\' must be "true" or "false"',
    ),
    (
        _doc(Condition={"NumericLessThan": {"s3:max-keys": "ten"}}),
        PolicyKind.IDENTITY,
        "NumericLessThan value 'ten' is not a number",
    ),
    (
        _doc(Condition={"DateLessThan": {"aws:CurrentTime": "tomorrow"}}),
        PolicyKind.IDENTITY,
        "is not an ISO 8601 date/time",
    ),
    (
        _doc(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}}),
        PolicyKind.IDENTITY,
        "is not an IP address or CIDR block",
    ),
    (
        _doc(Condition={"BinaryEquals": {"aws:Blob": "***"}}),
        PolicyKind.IDENTITY,
        "is not valid base64",
    ),
    (
        _doc(Condition={"StringEquals": {"username": "a"}}),
        PolicyKind.IDENTITY,
        "key 'username' must be prefixed by a service",
    ),
    (
        _doc(Condition={"StringEquals": {"aws:username": []}}),
        PolicyKind.IDENTITY,
        "has no value for key",
    ),
    (
        _doc(Condition={"StringEquals": {"aws:username": {"a": 1}}}),
        PolicyKind.IDENTITY,
        "condition values must be strings",
    ),
    (
        _doc(Condition={"StringEquals": "aws:username"}),
        PolicyKind.IDENTITY,
        "must map condition keys to values",
    ),
    (_doc(Condition=["StringEquals"]), PolicyKind.IDENTITY, "Condition must be an object"),
    (_res(Principal=None), PolicyKind.RESOURCE, "must have a Principal or NotPrincipal element"),
    (
        _res(NotPrincipal={"AWS": "111122223333"}),
        PolicyKind.RESOURCE,
        "has both Principal and NotPrincipal",
    ),
    (_res(Principal="111122223333"), PolicyKind.RESOURCE, 'Principal must be "*" or an object'),
    (_res(Principal={}), PolicyKind.RESOURCE, 'Principal must be "*" or an object'),
    (_res(Principal={"IAM": "111122223333"}), PolicyKind.RESOURCE, "unknown principal type 'IAM'"),
    (
        _res(Principal={"AWS": "arn:aws:iam::111122223333:role/*"}),
        PolicyKind.RESOURCE,
        "cannot be empty or use wildcards",
    ),
    (
        _res(Principal={"AWS": "alice"}),
        PolicyKind.RESOURCE,
        "AWS value 'alice' is not an account id, an ARN",
    ),
    (_res(Principal={"AWS": []}), PolicyKind.RESOURCE, "Principal AWS must not be an empty list"),
    (_res(Principal={"Service": ""}), PolicyKind.RESOURCE, "cannot be empty"),
    (
        {
            "Statement": {
                "Effect": "Allow",
                "Principal": {"AWS": "111122223333"},
                "Action": "sts:AssumeRole",
                "Resource": "*",
            }
        },
        PolicyKind.TRUST,
        "a trust policy cannot have a Resource",
    ),
    (
        {"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole"}},
        PolicyKind.TRUST,
        "must have a Principal or NotPrincipal",
    ),
]


@pytest.mark.parametrize(("doc", "kind", "message"), MALFORMED, ids=[m[2][:50] for m in MALFORMED])
def test_malformed_policy_messages(doc: Any, kind: PolicyKind, message: str) -> None:
    with pytest.raises(MalformedPolicy) as err:
        parse_policy(doc, kind=kind)
    assert message in str(err.value)


def test_malformed_names_the_statement_by_position_and_sid() -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": [OK_STATEMENT, {**OK_STATEMENT, "Sid": "Second", "Effect": "Maybe"}],
    }
    with pytest.raises(MalformedPolicy, match=r"^statement 2 \(Sid 'Second'\): Effect"):
        parse_policy(doc)


def test_malformed_is_a_value_error() -> None:
    assert issubclass(MalformedPolicy, ValueError)


def test_statement_may_be_a_single_object_and_version_defaults_to_2008() -> None:
    p = parse_policy({"Statement": OK_STATEMENT})
    assert p.version == "2008-10-17"
    assert len(p.statements) == 1 and p.statements[0].effect == "Allow"


def test_kms_key_policy_sids_may_have_spaces() -> None:
    doc = _res(Sid="Enable IAM User Permissions")
    assert (
        parse_policy(doc, kind=PolicyKind.RESOURCE).statements[0].sid
        == "Enable IAM User Permissions"
    )


def test_trust_policy_without_resource() -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        },
    }
    st = parse_policy(doc, kind=PolicyKind.TRUST).statements[0]
    assert st.resources is None and st.principal is not None


def test_principal_forms() -> None:
    doc = _res(
        Principal={
            "AWS": [
                "*",
                "111122223333",
                "arn:aws:iam::444455556666:root",
                "arn:aws:iam::111122223333:role/r",
                "AIDAJQABLZS4A3QDU576Q",
            ],
            "Service": "KMS.amazonaws.com",
            "Federated": "arn:aws:iam::111122223333:saml-provider/idp",
            "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
        }
    )
    spec = parse_policy(doc, kind=PolicyKind.RESOURCE).statements[0].principal
    assert spec is not None and spec.anyone
    assert spec.accounts == {"111122223333", "444455556666"}
    assert "arn:aws:iam::111122223333:role/r" in spec.arns and "AIDAJQABLZS4A3QDU576Q" in spec.arns
    assert spec.services == {"kms.amazonaws.com"}
    assert spec.federated == {"arn:aws:iam::111122223333:saml-provider/idp"}
    assert len(spec.canonical) == 1


def test_condition_values_may_be_numbers_and_booleans() -> None:
    p = parse_policy(
        _doc(
            Condition={
                "NumericLessThan": {"s3:max-keys": 10},
                "Bool": {"aws:SecureTransport": True},
            }
        )
    )
    values = sorted(v for c in p.statements[0].conditions for v in c.values)
    assert values == ["10", "true"]


def test_label_and_with_label() -> None:
    p = parse_policy(_doc(), label="user inline policy 'p'")
    assert p.label == "user inline policy 'p'"
    assert p.with_label("other").label == "other" and p.label == "user inline policy 'p'"


def test_context_keys_lists_condition_and_variable_keys() -> None:
    p = parse_policy(
        _doc(
            Resource="arn:aws:s3:::b/${aws:username}/*",
            Condition={
                "StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"},
                "Bool": {"aws:SecureTransport": "true"},
            },
        )
    )
    assert {
        "aws:username",
        "aws:ResourceTag/team",
        "aws:principaltag/team",
        "aws:SecureTransport",
    } <= p.context_keys


def test_parse_policy_cached_returns_the_same_object() -> None:
    text = json.dumps(_doc())
    a = parse_policy_cached(text, PolicyKind.IDENTITY)
    b = parse_policy_cached(text, PolicyKind.IDENTITY)
    assert a is b
    c = parse_policy_cached(text, PolicyKind.IDENTITY, "labelled")
    assert c is not a and c.label == "labelled"
    with pytest.raises(MalformedPolicy):
        parse_policy_cached("{}", PolicyKind.IDENTITY)


def test_parse_accepts_text_and_mapping_alike() -> None:
    doc = _doc(Sid="S1")
    assert (
        parse_policy(json.dumps(doc)).statements[0].sid
        == parse_policy(doc).statements[0].sid
        == "S1"
    )
