"""explain(): the text `strongroom policy simulate` prints."""

from __future__ import annotations

from strongroom.iam.policy import (
    Decision,
    MatchedStatement,
    PolicyKind,
    PolicySet,
    RequestInfo,
    evaluate,
    explain,
    parse_policy,
)

USER = "arn:aws:iam::111122223333:user/alice"


def _req(action: str = "s3:GetObject", resource: str = "arn:aws:s3:::b/k") -> RequestInfo:
    return RequestInfo(action, resource, USER, "111122223333", {"aws:username": "alice"})


def test_explain_allow_names_policy_and_sid() -> None:
    p = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Sid": "ReadB",
                "Effect": "Allow",
                "Action": "s3:Get*",
                "Resource": "arn:aws:s3:::b/*",
            },
        },
        label="user inline policy 'p'",
    )
    text = explain(evaluate(_req(), PolicySet(identity=[p])))
    assert text.startswith("Allowed by:")
    assert "Allow statement 'ReadB' of identity policy user inline policy 'p'" in text


def test_explain_explicit_deny_lists_every_deny_and_positions_without_sid() -> None:
    p = parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
            ]
        },
        label="arn:aws:iam::aws:policy/Example v1",
    )
    d = evaluate(_req(), PolicySet(identity=[p]))
    text = explain(d)
    assert text.startswith("Denied: an explicit Deny applies")
    assert "Deny statement #2 of identity policy arn:aws:iam::aws:policy/Example v1" in text
    assert "#1" not in text


def test_explain_implicit_deny_says_what_is_missing() -> None:
    p = parse_policy(
        {"Statement": {"Sid": "S3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}},
        label="id",
    )
    boundary = parse_policy(
        {"Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}},
        kind=PolicyKind.BOUNDARY,
        label="dev-boundary",
    )
    d = evaluate(_req(), PolicySet(identity=[p], boundary=boundary))
    text = explain(d)
    assert text.startswith("Denied (implicit deny): blocked by permissions boundary (dev-boundary)")
    assert "s3:GetObject on arn:aws:s3:::b/k" in text
    assert "Allow statement 'S3' of identity policy id" in text  # allowed, but not enough


def test_explain_of_a_bare_implicit_deny() -> None:
    d = Decision(False, "implicit_deny", (), None)
    assert explain(d) == "Denied (implicit deny): no policy allows the request."


def test_matched_statement_reference() -> None:
    m = MatchedStatement("key policy", "resource", None, 2, "Allow")
    assert m.ref == "#3"
    assert m.describe() == "Allow statement #3 of resource policy key policy"


def test_with_label_relabels_matched_statements() -> None:
    p = parse_policy({"Statement": {"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"}})
    q = p.with_label("role inline policy 'q'")
    d = evaluate(_req(), PolicySet(identity=[q]))
    assert [m.policy for m in d.matched] == ["role inline policy 'q'"]
    assert "of identity policy role inline policy 'q'" in explain(d)
