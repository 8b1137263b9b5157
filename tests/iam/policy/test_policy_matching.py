"""Action, Resource (ARN) and Principal matching."""

from __future__ import annotations

import pytest

from strongroom.iam.policy import (
    PolicyKind,
    PolicySet,
    RequestInfo,
    evaluate,
    parse_policy,
    wildcard_match,
)
from strongroom.iam.policy.matching import Caller, Grant, PatternSet, account_of
from strongroom.iam.policy.variables import ContextView

# (pattern, action, matches) - actions are case-insensitive (IAM User Guide, Action element)
ACTIONS = [
    ("*", "kms:Encrypt", True),
    ("kms:*", "kms:Encrypt", True),
    ("kms:*", "kmsx:Encrypt", False),
    ("kms:Encrypt", "KMS:encrypt", True),
    ("KMS:ENCRYPT", "kms:Encrypt", True),
    ("kms:Encrypt", "kms:EncryptX", False),
    ("kms:Re*", "kms:ReEncryptFrom", True),
    ("kms:*Key*", "kms:ScheduleKeyDeletion", True),
    ("kms:*Key*", "kms:Decrypt", False),
    ("iam:*AccessKey*", "iam:CreateAccessKey", True),
    ("iam:*AccessKey*", "iam:ListAccessKeys", True),
    ("iam:Get*", "iam:GetUser", True),
    ("iam:Get*", "iam:ListUsers", False),
    ("iam:*Report", "iam:GenerateCredentialReport", True),
    ("iam:*Report", "iam:GetCredentialReportStatus", False),
    ("s3:Get?bject", "s3:GetObject", True),
    ("s3:Get?bject", "s3:Getobject", True),
    ("s3:Get?bject", "s3:GetObjectAcl", False),
    ("*:Describe*", "ec2:DescribeInstances", True),
]


@pytest.mark.parametrize(("pattern", "action", "expected"), ACTIONS)
def test_action_patterns(pattern: str, action: str, expected: bool) -> None:
    ps = PatternSet([pattern], arn=False, ignore_case=True, variables=False)
    assert ps.matches(action) is expected
    assert wildcard_match(pattern, action, ignore_case=True) is expected


# (pattern, resource, matches): ARN parts matched one by one, case-sensitive
RESOURCES = [
    ("*", "arn:aws:s3:::bucket", True),
    ("*", "*", True),
    ("arn:aws:kms:*:*:key/*", "*", False),
    ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket", True),
    ("arn:aws:s3:::bucket", "arn:aws:s3:::Bucket", False),
    ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket/key", False),
    ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c.txt", True),
    ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a:b", True),
    ("arn:aws:s3:::*log*", "arn:aws:s3:::carlossalazar-logs/f", True),
    ("arn:aws:s3:::*log*", "arn:aws:s3:::carlossalazar/f", False),
    ("arn:aws:kms:*:111122223333:key/*", "arn:aws:kms:us-east-1:111122223333:key/abc", True),
    ("arn:aws:kms:*:111122223333:key/*", "arn:aws:kms:us-east-1:444455556666:key/abc", False),
    # a wildcard in a region/account part does not cross a colon
    ("arn:aws:kms:*:key/*", "arn:aws:kms:us-east-1:111122223333:key/abc", False),
    ("arn:aws:kms:us-east-?:*:key/*", "arn:aws:kms:us-east-2:111122223333:key/abc", True),
    ("arn:aws:kms:us-east-?:*:key/*", "arn:aws:kms:us-east-12:111122223333:key/abc", False),
    ("arn:aws:iam::*:user/*", "arn:aws:iam::111122223333:user/division/alice", True),
    (
        "arn:aws:logs:*:*:log-group:/aws/*",
        "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f:*",
        True,
    ),
    (
        "arn:aws:secretsmanager:*:*:secret:db-??????",
        "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf",
        True,
    ),
    (
        "arn:aws:secretsmanager:*:*:secret:db-??????",
        "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdE",
        False,
    ),
    ("arn:*:s3:::b", "arn:aws-cn:s3:::b", True),
    ("arn:*", "arn:aws:s3:::bucket/anything", True),
]


@pytest.mark.parametrize(("pattern", "resource", "expected"), RESOURCES)
def test_resource_patterns(pattern: str, resource: str, expected: bool) -> None:
    ps = PatternSet([pattern], arn=True, ignore_case=False, variables=False)
    assert ps.matches(resource) is expected
    assert wildcard_match(pattern, resource, arn=True) is expected


def test_several_patterns_are_ored() -> None:
    ps = PatternSet(
        ["arn:aws:s3:::a", "arn:aws:s3:::b/*", "arn:aws:s3:::c?"],
        arn=True,
        ignore_case=False,
        variables=False,
    )
    assert ps.matches("arn:aws:s3:::a")
    assert ps.matches("arn:aws:s3:::b/x")
    assert ps.matches("arn:aws:s3:::c1")
    assert not ps.matches("arn:aws:s3:::d")


def test_variable_in_resource_is_literal_text() -> None:
    ps = PatternSet(
        ["arn:aws:s3:::b/${aws:PrincipalTag/dir}/*"], arn=True, ignore_case=False, variables=True
    )
    ctx = ContextView({"aws:PrincipalTag/dir": "x?y"})
    assert ps.matches("arn:aws:s3:::b/x?y/k", ctx)
    assert not ps.matches("arn:aws:s3:::b/xzy/k", ctx)


@pytest.mark.parametrize(
    ("text", "account"),
    [
        ("111122223333", "111122223333"),
        ("arn:aws:iam::111122223333:root", "111122223333"),
        ("arn:aws-us-gov:iam::111122223333:root", "111122223333"),
        ("arn:aws:iam::111122223333:user/root", None),
        ("11112222333", None),
        ("arn:aws:sts::111122223333:assumed-role/r/s", None),
    ],
)
def test_account_of(text: str, account: str | None) -> None:
    assert account_of(text) == account


def _spec(principal: object) -> object:
    doc = {
        "Statement": {"Effect": "Allow", "Principal": principal, "Action": "s3:*", "Resource": "*"}
    }
    spec = parse_policy(doc, kind=PolicyKind.RESOURCE).statements[0].principal
    assert spec is not None
    return spec


SESSION = Caller(
    arn="arn:aws:sts::111122223333:assumed-role/app/s1",
    parents=("arn:aws:iam::111122223333:role/app",),
    accounts=frozenset({"111122223333"}),
    service=None,
)


@pytest.mark.parametrize(
    ("principal", "grant"),
    [
        ("*", Grant.DIRECT),
        ({"AWS": "*"}, Grant.DIRECT),
        ({"AWS": "arn:aws:sts::111122223333:assumed-role/app/s1"}, Grant.DIRECT),
        ({"AWS": "arn:aws:iam::111122223333:role/app"}, Grant.PARENT),
        ({"AWS": "111122223333"}, Grant.ACCOUNT),
        ({"AWS": "arn:aws:iam::111122223333:root"}, Grant.ACCOUNT),
        ({"AWS": ["111122223333", "arn:aws:iam::111122223333:role/app"]}, Grant.PARENT),
        ({"AWS": "444455556666"}, None),
        ({"AWS": "arn:aws:iam::111122223333:role/other"}, None),
        ({"Service": "ec2.amazonaws.com"}, None),
    ],
)
def test_principal_grant_kinds(principal: object, grant: Grant | None) -> None:
    assert _spec(principal).grant(SESSION) == grant  # type: ignore[attr-defined]


def test_service_principal_matches_service_name_case_insensitively() -> None:
    spec = _spec({"Service": ["EC2.amazonaws.com"]})
    svc = Caller(arn="ec2.amazonaws.com", parents=(), accounts=frozenset(), service=None)
    assert spec.grant(svc) is Grant.DIRECT  # type: ignore[attr-defined]
    by_ctx = Caller(
        arn="arn:aws:iam::1:role/x", parents=(), accounts=frozenset(), service="ec2.amazonaws.com"
    )
    assert spec.grant(by_ctx) is Grant.DIRECT  # type: ignore[attr-defined]


def test_service_principal_via_context_key_in_evaluation() -> None:
    trust = parse_policy(
        {
            "Statement": {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        },
        kind=PolicyKind.TRUST,
    )
    req = RequestInfo(
        "sts:AssumeRole",
        "arn:aws:iam::1:role/r",
        "lambda",
        "",
        {"AWS:PrincipalServiceName": "lambda.amazonaws.com"},
    )
    assert evaluate(req, PolicySet(resource=trust, require_resource_policy=True)).allowed
    other = RequestInfo(
        "sts:AssumeRole",
        "arn:aws:iam::1:role/r",
        "x",
        "",
        {"aws:PrincipalServiceName": "ec2.amazonaws.com"},
    )
    assert not evaluate(other, PolicySet(resource=trust, require_resource_policy=True)).allowed


def test_not_principal_lists_every_identity_of_the_chain() -> None:
    full = _spec({"AWS": [SESSION.arn, SESSION.parents[0], "111122223333"]})
    assert not full.not_principal_applies(SESSION)  # type: ignore[attr-defined]
    no_account = _spec({"AWS": [SESSION.arn, SESSION.parents[0]]})
    assert no_account.not_principal_applies(SESSION)  # type: ignore[attr-defined]
    assert not _spec("*").not_principal_applies(SESSION)  # type: ignore[attr-defined]
