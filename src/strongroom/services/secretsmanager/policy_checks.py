"""Resource-policy validation and the "broad access" (public policy) check.

``ValidateResourcePolicy`` and ``PutResourcePolicy`` with BlockPublicPolicy
ask whether a policy grants access to anyone at all. AWS decides that with
automated reasoning (Zelkova); we apply the documented rule of thumb that
it implements for resource policies: an Allow statement is public when its
principal is a wildcard (``"*"``, ``{"AWS": "*"}``) or it uses NotPrincipal,
unless a condition pins the caller to specific, non-wildcard values of a
key that identifies the caller or its network (aws:PrincipalAccount,
aws:PrincipalArn, aws:SourceAccount, aws:PrincipalOrgID, aws:SourceVpc, …)
with an equality operator. Naming another account explicitly is not
public: cross-account sharing is what resource policies are for.
"""

from __future__ import annotations

import json
from typing import Any

from strongroom.iam.policy import MalformedPolicy, PolicyKind, parse_policy
from strongroom.services.secretsmanager import errors

MAX_POLICY = 20480

# Keys that, pinned to fixed values, narrow a statement to known callers.
_RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOwner",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:userid",
        "aws:username",
        "kms:CallerAccount",
    )
)
_EQUALITY_OPERATORS = frozenset(
    op.lower()
    for op in (
        "StringEquals",
        "StringEqualsIgnoreCase",
        "ArnEquals",
        "ArnLike",
        "StringLike",
    )
)


def parse(document: object) -> dict[str, Any]:
    """The policy as JSON, validated as a resource policy; MalformedPolicyDocumentException else."""
    if not isinstance(document, str) or not document.strip():
        raise errors.malformed_policy("The resource policy is empty.")
    if len(document) > MAX_POLICY:
        raise errors.malformed_policy(
            f"The resource policy is larger than {MAX_POLICY} characters."
        )
    try:
        parse_policy(document, kind=PolicyKind.RESOURCE)
        loaded = json.loads(document)
    except (MalformedPolicy, ValueError) as exc:
        raise errors.malformed_policy(
            f"This resource policy contains a syntax error: {exc}"
        ) from None
    if not isinstance(loaded, dict):
        raise errors.malformed_policy("This resource policy contains a syntax error.")
    return loaded


def _values(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _wildcard_principal(statement: dict[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any("*" in v for key, raw in principal.items() for v in _values(raw))
    return False


def _restricted(statement: dict[str, Any]) -> bool:
    conditions = statement.get("Condition")
    if not isinstance(conditions, dict):
        return False
    for operator, block in conditions.items():
        base = operator.split(":")[-1].lower()  # ForAnyValue:StringEquals -> stringequals
        if (
            base.endswith("ifexists")
            or base not in _EQUALITY_OPERATORS
            or not isinstance(block, dict)
        ):
            continue
        for key, raw in block.items():
            if key.lower() in _RESTRICTING_KEYS and all(
                v and "*" not in v and "?" not in v for v in _values(raw)
            ):
                return True
    return False


def public_statements(policy: dict[str, Any]) -> list[int]:
    """Indexes of the Allow statements that grant broad access."""
    raw = policy.get("Statement", [])
    statements = raw if isinstance(raw, list) else [raw]
    return [
        i
        for i, st in enumerate(statements)
        if isinstance(st, dict)
        and st.get("Effect") == "Allow"
        and _wildcard_principal(st)
        and not _restricted(st)
    ]


def validation_errors(policy: dict[str, Any]) -> list[dict[str, str]]:
    """ValidateResourcePolicy's ValidationErrors (empty: the policy passes)."""
    found = public_statements(policy)
    if not found:
        return []
    which = ", ".join(str(i + 1) for i in found)
    return [
        {
            "CheckName": "BLOCK_PUBLIC_POLICY",
            "ErrorMessage": (
                f"The resource policy grants broad access to the secret (statement {which}): "
                "its principal is a wildcard and no condition narrows it to specific "
                "accounts, principals, organizations or networks."
            ),
        }
    ]
