"""Parsing and validating policy documents against the AWS policy grammar.

Sources: IAM User Guide, "Grammar of the IAM JSON policy language" and the
element pages (Version, Statement, Sid, Effect, Principal, NotPrincipal,
Action, NotAction, Resource, NotResource, Condition). Every error names the
statement (1-based, with its Sid) and the element that is wrong, because the
message is shown to the user who wrote the policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

from strongroom.iam.policy.conditions import Condition, ConditionError, compile_condition
from strongroom.iam.policy.matching import PatternSet, PrincipalSpec, account_of
from strongroom.iam.policy.model import Policy, PolicyKind, Statement
from strongroom.iam.policy.variables import parse_template, template_keys


class MalformedPolicy(ValueError):
    """The document is not a valid policy; the message says what and where."""


VERSIONS: Final = ("2012-10-17", "2008-10-17")
_TOP_KEYS: Final = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS: Final = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
_PRINCIPAL_TYPES: Final = ("AWS", "Service", "Federated", "CanonicalUser")
_ACTION = re.compile(r"[A-Za-z0-9*?_.-]+:[A-Za-z0-9*?_.-]+")
_UNIQUE_ID = re.compile(r"A[A-Z0-9]{3}[A-Z0-9]{12,}")
_IAM_SID = re.compile(r"[A-Za-z0-9]*")
# IAM (not resource services such as KMS, whose default key policy has Sids
# with spaces) accepts only alphanumeric Sids.
_IAM_KINDS: Final = frozenset(
    {PolicyKind.IDENTITY, PolicyKind.TRUST, PolicyKind.SESSION, PolicyKind.BOUNDARY}
)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise MalformedPolicy(f"duplicate key {k!r} in policy document")
        out[k] = v
    return out


def _load(doc: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(doc, str):
        try:
            loaded = json.loads(doc, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as e:
            raise MalformedPolicy(
                f"policy document is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
            ) from None
        if not isinstance(loaded, dict):
            raise MalformedPolicy("policy document must be a JSON object")
        return loaded
    if not isinstance(doc, Mapping):
        raise MalformedPolicy("policy document must be a JSON object")
    return doc


def _strings(value: object, where: str, element: str) -> list[str]:
    """A string-or-list element as a non-empty list of strings."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise MalformedPolicy(f"{where}: {element} must not be an empty list")
    for v in items:
        if not isinstance(v, str):
            raise MalformedPolicy(f"{where}: {element} values must be strings, got {v!r}")
    return list(items)


def _condition_values(value: object, where: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for v in items:
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, str):
            out.append(v)
        elif isinstance(v, int | float):
            out.append(str(v))
        else:
            raise MalformedPolicy(
                f"{where}: condition values must be strings, numbers or booleans, got {v!r}"
            )
    return out


def _principal(value: object, where: str, element: str) -> PrincipalSpec:
    if value == "*":
        return PrincipalSpec(anyone=True)
    if not isinstance(value, Mapping) or not value:
        raise MalformedPolicy(
            f'{where}: {element} must be "*" or an object such as '
            f'{{"AWS": "arn:aws:iam::123456789012:root"}}'
        )
    anyone = False
    arns: set[str] = set()
    accounts: set[str] = set()
    services: set[str] = set()
    federated: set[str] = set()
    canonical: set[str] = set()
    for ptype, raw in value.items():
        if ptype not in _PRINCIPAL_TYPES:
            raise MalformedPolicy(
                f"{where}: {element} has unknown principal type {ptype!r} "
                f"(expected one of {', '.join(_PRINCIPAL_TYPES)})"
            )
        for v in _strings(raw, where, f"{element} {ptype}"):
            if ptype == "AWS" and v == "*":
                anyone = True
                continue
            if not v or "*" in v or "?" in v:
                raise MalformedPolicy(
                    f"{where}: {element} {ptype} value {v!r} is invalid: a principal cannot be "
                    'empty or use wildcards (only "*" alone, meaning everyone)'
                )
            if ptype == "AWS":
                acct = account_of(v)
                if acct is not None:
                    accounts.add(acct)
                elif v.startswith("arn:") or _UNIQUE_ID.fullmatch(v):
                    arns.add(v)
                else:
                    raise MalformedPolicy(
                        f'{where}: {element} AWS value {v!r} is not an account id, an ARN or "*"'
                    )
            elif ptype == "Service":
                services.add(v.lower())
            elif ptype == "Federated":
                federated.add(v)
            else:
                canonical.add(v)
    return PrincipalSpec(
        anyone=anyone,
        arns=frozenset(arns),
        accounts=frozenset(accounts),
        services=frozenset(services),
        federated=frozenset(federated),
        canonical=frozenset(canonical),
    )


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _one_of(st: Mapping[str, Any], a: str, b: str, where: str, required: bool) -> str | None:
    if a in st and b in st:
        raise MalformedPolicy(f"{where}: has both {a} and {b}; use exactly one")
    if a in st:
        return a
    if b in st:
        return b
    if required:
        raise MalformedPolicy(f"{where}: must have {_article(a)} {a} or {b} element")
    return None


def _conditions(raw: object, where: str, variables: bool) -> tuple[tuple[Condition, ...], set[str]]:
    if not isinstance(raw, Mapping):
        raise MalformedPolicy(
            f"{where}: Condition must be an object of {{operator: {{key: value}}}}"
        )
    out: list[Condition] = []
    keys: set[str] = set()
    for op, block in raw.items():
        if not isinstance(block, Mapping) or not block:
            raise MalformedPolicy(f"{where}: Condition {op!r} must map condition keys to values")
        for key, value in block.items():
            if not isinstance(key, str) or ":" not in key:
                raise MalformedPolicy(
                    f"{where}: Condition {op!r} key {key!r} must be prefixed by a service "
                    "(for example aws:SourceIp or kms:ViaService)"
                )
            try:
                cond = compile_condition(
                    op, key, _condition_values(value, where), variables=variables
                )
            except ConditionError as e:
                raise MalformedPolicy(f"{where}: Condition {op!r}: {e}") from None
            out.append(cond)
            keys.add(key)
            keys |= cond.variables
    return tuple(out), keys


def _statement(
    st: object, index: int, kind: PolicyKind, variables: bool, sids: set[str]
) -> tuple[Statement, set[str]]:
    where = f"statement {index + 1}"
    if not isinstance(st, Mapping):
        raise MalformedPolicy(f"{where}: must be a JSON object")
    sid = st.get("Sid")
    if sid is not None:
        if not isinstance(sid, str):
            raise MalformedPolicy(f"{where}: Sid must be a string")
        where = f"statement {index + 1} (Sid {sid!r})"
        if kind in _IAM_KINDS and not _IAM_SID.fullmatch(sid):
            raise MalformedPolicy(f"{where}: Sid must contain only letters and digits")
        if sid and sid in sids:
            raise MalformedPolicy(f"{where}: Sid {sid!r} is used by more than one statement")
        sids.add(sid)
    for k in st:
        if k not in _STATEMENT_KEYS:
            raise MalformedPolicy(f"{where}: unknown element {k!r}")
    effect = st.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy(f'{where}: Effect must be "Allow" or "Deny", got {effect!r}')

    action_el = _one_of(st, "Action", "NotAction", where, required=True)
    assert action_el is not None
    actions = _strings(st[action_el], where, action_el)
    for a in actions:
        if a != "*" and not _ACTION.fullmatch(a):
            raise MalformedPolicy(
                f'{where}: {action_el} {a!r} must be "*" or "service:action" (e.g. "kms:Encrypt")'
            )

    keys: set[str] = set()
    resources: PatternSet | None = None
    if kind is PolicyKind.TRUST:
        if "Resource" in st or "NotResource" in st:
            raise MalformedPolicy(
                f"{where}: a trust policy cannot have a Resource or NotResource element"
            )
        resource_el = None
    else:
        resource_el = _one_of(st, "Resource", "NotResource", where, required=True)
        assert resource_el is not None
        res_values = _strings(st[resource_el], where, resource_el)
        for r in res_values:
            if r != "*" and not r.startswith("arn:"):
                raise MalformedPolicy(f'{where}: {resource_el} {r!r} must be an ARN or "*"')
            if variables:
                keys |= template_keys(parse_template(r, variables=True, wildcards=True))
        resources = PatternSet(res_values, arn=True, ignore_case=False, variables=variables)

    principal_el = _one_of(st, "Principal", "NotPrincipal", where, required=kind.has_principal)
    if principal_el is not None and not kind.has_principal:
        kind_name = f"{_article(kind.value)} {kind.value}"
        raise MalformedPolicy(f"{where}: {kind_name} policy cannot have a {principal_el} element")
    principal = _principal(st[principal_el], where, principal_el) if principal_el else None

    conditions: tuple[Condition, ...] = ()
    if "Condition" in st:
        conditions, ckeys = _conditions(st["Condition"], where, variables)
        keys |= ckeys

    statement = Statement(
        index=index,
        sid=sid or None,
        allow=effect == "Allow",
        actions=PatternSet(actions, arn=False, ignore_case=True, variables=False),
        not_action=action_el == "NotAction",
        resources=resources,
        not_resource=resource_el == "NotResource",
        principal=principal,
        not_principal=principal_el == "NotPrincipal",
        conditions=conditions,
    )
    return statement, keys


def parse_policy(
    doc: str | Mapping[str, Any], *, kind: PolicyKind = PolicyKind.IDENTITY, label: str = ""
) -> Policy:
    """Parse and validate a policy document; raises :class:`MalformedPolicy`."""
    top = _load(doc)
    for k in top:
        if k not in _TOP_KEYS:
            raise MalformedPolicy(
                f"unknown top-level element {k!r} (expected Version, Id, Statement)"
            )
    version = top.get("Version", "2008-10-17")  # no Version: the 2008 language, no variables
    if version not in VERSIONS:
        raise MalformedPolicy(f'Version must be "2012-10-17" or "2008-10-17", got {version!r}')
    pid = top.get("Id")
    if pid is not None and not isinstance(pid, str):
        raise MalformedPolicy("Id must be a string")
    if "Statement" not in top:
        raise MalformedPolicy("policy document has no Statement element")
    raw = top["Statement"]
    items: Sequence[object] = raw if isinstance(raw, list) else [raw]
    if not items:
        raise MalformedPolicy("Statement must not be an empty list")
    variables = version == "2012-10-17"
    sids: set[str] = set()
    statements: list[Statement] = []
    keys: set[str] = set()
    for i, st in enumerate(items):
        statement, skeys = _statement(st, i, kind, variables, sids)
        statements.append(statement)
        keys |= skeys
    return Policy(
        version=version,
        id=pid,
        statements=tuple(statements),
        kind=kind,
        label=label,
        context_keys=frozenset(keys),
    )


@lru_cache(maxsize=4096)
def parse_policy_cached(
    text: str, kind: PolicyKind = PolicyKind.IDENTITY, label: str = ""
) -> Policy:
    """``parse_policy`` memoized on the document text: a parsed Policy is immutable."""
    return parse_policy(text, kind=kind, label=label)
