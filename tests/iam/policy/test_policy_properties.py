"""Property tests: the invariants AWS's evaluation logic promises.

* an explicit Deny that applies always wins;
* adding an Allow statement to a policy never turns an allow into a deny;
* evaluation never raises for parsed policies and any request.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.iam.policy import PolicyKind, PolicySet, RequestInfo, evaluate, parse_policy

A, B = "111122223333", "444455556666"
ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "kms:Encrypt",
    "kms:Decrypt",
    "iam:CreateUser",
    "sts:AssumeRole",
]
ACTION_PATTERNS = [
    "*",
    "s3:*",
    "s3:Get*",
    "s3:?etObject",
    "kms:*",
    "kms:Encrypt",
    "iam:*",
    "*:Decrypt",
]
RESOURCES = ["*", "arn:aws:s3:::b/k", "arn:aws:s3:::b/alice/k", f"arn:aws:kms:us-east-1:{A}:key/k1"]
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/${aws:username}/*",
    "arn:aws:kms:*:*:key/*",
    f"arn:aws:kms:*:{A}:key/*",
]
CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"aws:username": "alice"}},
    {"StringNotEquals": {"aws:PrincipalTag/team": ["red", "blue"]}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"NotIpAddressIfExists": {"aws:SourceIp": "192.0.2.0/24"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"Null": {"aws:TokenIssueTime": "true"}},
    {"ForAllValues:StringLike": {"aws:TagKeys": ["env*", "owner"]}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": "secret"}},
    {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
    {"NumericLessThanEquals": {"s3:max-keys": "10"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}},
    {"StringLike": {"s3:prefix": "${aws:username}/*"}},
]
PRINCIPAL_FORMS: list[Any] = [
    "*",
    {"AWS": A},
    {"AWS": f"arn:aws:iam::{B}:root"},
    {"AWS": f"arn:aws:iam::{A}:user/alice"},
    {"AWS": f"arn:aws:iam::{A}:role/app"},
    {"AWS": f"arn:aws:sts::{A}:assumed-role/app/s1"},
    {"AWS": f"arn:aws:iam::{B}:user/bob"},
    {"Service": "ec2.amazonaws.com"},
]
CALLERS = [
    (f"arn:aws:iam::{A}:user/alice", A, (), {"aws:username": "alice"}, False),
    (f"arn:aws:sts::{A}:assumed-role/app/s1", A, (f"arn:aws:iam::{A}:role/app",), {}, False),
    (f"arn:aws:iam::{B}:user/bob", B, (), {"aws:username": "bob"}, False),
    (f"arn:aws:iam::{A}:root", A, (), {}, True),
    ("ec2.amazonaws.com", "", (), {"aws:PrincipalServiceName": "ec2.amazonaws.com"}, False),
]


def statements(resource_policy: bool) -> st.SearchStrategy[dict[str, Any]]:
    base: dict[str, Any] = {
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "Action": st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3),
        "Resource": st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2),
    }
    if resource_policy:
        base["Principal"] = st.sampled_from(PRINCIPAL_FORMS)
    optional = {"Condition": st.sampled_from(CONDITIONS)}
    stmt = st.fixed_dictionaries(base, optional=optional)
    return st.tuples(stmt, st.booleans(), st.booleans()).map(_negate)


def _negate(args: tuple[dict[str, Any], bool, bool]) -> dict[str, Any]:
    stmt, not_action, not_resource = args
    stmt = dict(stmt)
    if not_action:
        stmt["NotAction"] = stmt.pop("Action")
    if not_resource:
        stmt["NotResource"] = stmt.pop("Resource")
    return stmt


def _allows(stmt: dict[str, Any]) -> dict[str, Any]:
    return {**stmt, "Effect": "Allow"}


IDENTITY_STMTS = st.lists(statements(False), min_size=1, max_size=3)
RESOURCE_STMTS = st.lists(statements(True), min_size=1, max_size=3)

SCENARIO = st.fixed_dictionaries(
    {
        "identity": st.lists(IDENTITY_STMTS, max_size=3),
        "resource": st.none() | RESOURCE_STMTS,
        "boundary": st.none() | IDENTITY_STMTS,
        "session": st.lists(IDENTITY_STMTS, max_size=2),
        "require": st.booleans(),
        "resource_account": st.sampled_from([None, A, B]),
        "caller": st.sampled_from(CALLERS),
        "action": st.sampled_from(ACTIONS),
        "target": st.sampled_from(RESOURCES),
        "context": st.fixed_dictionaries(
            {},
            optional={
                "aws:SourceIp": st.sampled_from(["10.1.2.3", "192.0.2.9", "2001:db8::1", "bogus"]),
                "aws:SecureTransport": st.booleans(),
                "aws:TagKeys": st.lists(st.sampled_from(["env", "owner", "secret"]), max_size=3),
                "aws:PrincipalTag/team": st.sampled_from(["red", "green"]),
                "aws:CurrentTime": st.sampled_from(
                    ["2024-05-01T00:00:00Z", "2031-01-01T00:00:00Z", "x"]
                ),
                "s3:max-keys": st.sampled_from(["5", "50", "many"]),
                "s3:prefix": st.sampled_from(["alice/x", "bob/x"]),
                "aws:PrincipalArn": st.sampled_from(
                    [f"arn:aws:iam::{A}:role/app", f"arn:aws:iam::{A}:user/alice"]
                ),
            },
        ),
    }
)


def _doc(stmts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": stmts}


def _build(s: dict[str, Any]) -> tuple[RequestInfo, PolicySet, bool]:
    arn, account, ids, ctx, is_root = s["caller"]
    request = RequestInfo(s["action"], s["target"], arn, account, {**ctx, **s["context"]}, ids)
    policies = PolicySet(
        identity=[parse_policy(_doc(p)) for p in s["identity"]],
        resource=parse_policy(_doc(s["resource"]), kind=PolicyKind.RESOURCE)
        if s["resource"]
        else None,
        resource_account=s["resource_account"],
        boundary=parse_policy(_doc(s["boundary"]), kind=PolicyKind.BOUNDARY)
        if s["boundary"]
        else None,
        session=[parse_policy(_doc(p), kind=PolicyKind.SESSION) for p in s["session"]],
        require_resource_policy=s["require"],
    )
    return request, policies, is_root


@settings(max_examples=150, deadline=None)
@given(SCENARIO)
def test_evaluation_never_raises_and_is_consistent(s: dict[str, Any]) -> None:
    request, policies, is_root = _build(s)
    d = evaluate(request, policies, is_root=is_root)
    assert d.allowed == (d.kind == "allow")
    assert (d.missing is not None) == (d.kind == "implicit_deny")


@settings(max_examples=100, deadline=None)
@given(SCENARIO, st.sampled_from(["identity", "boundary", "session", "resource"]))
def test_explicit_deny_always_wins(s: dict[str, Any], where: str) -> None:
    deny_all = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    if where == "identity":
        s = {**s, "identity": [*s["identity"], [deny_all]]}
    elif where == "boundary":
        s = {**s, "boundary": [*(s["boundary"] or []), deny_all]}
    elif where == "session":
        s = {**s, "session": [*s["session"], [deny_all]]}
    else:
        s = {**s, "resource": [*(s["resource"] or []), {**deny_all, "Principal": "*"}]}
    request, policies, is_root = _build(s)
    d = evaluate(request, policies, is_root=is_root)
    assert d.kind == "explicit_deny" and not d.allowed


@settings(max_examples=150, deadline=None)
@given(
    SCENARIO,
    statements(True),
    st.sampled_from(["identity", "new-identity", "boundary", "session", "resource"]),
)
def test_adding_an_allow_never_turns_allow_into_deny(
    s: dict[str, Any], extra: dict[str, Any], where: str
) -> None:
    request, policies, is_root = _build(s)
    if not evaluate(request, policies, is_root=is_root).allowed:
        return
    allow = _allows(extra)
    plain = {k: v for k, v in allow.items() if k not in ("Principal",)}
    if where == "identity" and s["identity"]:
        s = {**s, "identity": [[*s["identity"][0], plain], *s["identity"][1:]]}
    elif where == "new-identity":
        s = {**s, "identity": [*s["identity"], [plain]]}
    elif where == "boundary" and s["boundary"]:
        s = {**s, "boundary": [*s["boundary"], plain]}
    elif where == "session" and s["session"]:
        s = {**s, "session": [[*s["session"][0], plain], *s["session"][1:]]}
    elif where == "resource" and s["resource"]:
        s = {**s, "resource": [*s["resource"], allow]}
    request, policies, is_root = _build(s)
    assert evaluate(request, policies, is_root=is_root).allowed
