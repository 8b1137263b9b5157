"""The global condition keys AWS puts in every request context.

Names and value rules follow the IAM User Guide's "AWS global condition
context keys" page: keys that AWS omits for a kind of principal are omitted
here too (``aws:username`` exists only for IAM users; ``aws:MultiFactorAuthPresent``
only for temporary credentials), because ``…IfExists`` and ``Null`` conditions
can observe the difference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strongroom.context import RequestContext
from strongroom.iam.principal import Principal, PrincipalType
from strongroom.protocol.codec import iso_seconds

_PRINCIPAL_TYPE_KEY = {
    PrincipalType.ROOT: "Account",
    PrincipalType.USER: "User",
    PrincipalType.ASSUMED_ROLE: "AssumedRole",
    PrincipalType.FEDERATED_USER: "FederatedUser",
}

# The keys that depend only on the principal, per principal object (the
# identity store hands out one per credential): (principal, keys). Bounded.
_by_principal: dict[int, tuple[Principal, dict[str, Any]]] = {}
_BY_PRINCIPAL_MAX = 10_000


def _principal_keys(p: Principal) -> dict[str, Any]:
    hit = _by_principal.get(id(p))
    if hit is not None and hit[0] is p:
        return hit[1]
    keys: dict[str, Any] = {
        # For a role session, aws:PrincipalArn is the role's ARN, not the session's.
        "aws:principalarn": p.identity_arn,
        "aws:principalaccount": p.account_id,
        "aws:principaltype": _PRINCIPAL_TYPE_KEY[p.type],
        "aws:userid": p.principal_id,
        "aws:viaawsservice": False,
        "aws:calledvia": (),
    }
    if p.user_name is not None and p.type is PrincipalType.USER:
        keys["aws:username"] = p.user_name
    if p.session is not None:
        keys["aws:multifactorauthpresent"] = p.session.mfa_authenticated
        keys["aws:tokenissuetime"] = p.session.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        if p.session.source_identity:
            keys["aws:sourceidentity"] = p.session.source_identity
    for tag_key, tag_value in p.tags.items():
        keys[f"aws:principaltag/{tag_key}".lower()] = tag_value
    if len(_by_principal) >= _BY_PRINCIPAL_MAX:
        _by_principal.clear()
    _by_principal[id(p)] = (p, keys)
    return keys


# The keys that differ per request, by lower-case name.
_PER_REQUEST: dict[str, Callable[[RequestContext], Any]] = {
    "aws:sourceip": lambda ctx: ctx.source_ip,
    "aws:currenttime": lambda ctx: iso_seconds(ctx.now),
    "aws:epochtime": lambda ctx: int(ctx.now.timestamp()),
    "aws:securetransport": lambda ctx: ctx.secure_transport,
    "aws:requestedregion": lambda ctx: ctx.region,
}


def global_keys(ctx: RequestContext) -> dict[str, Any]:
    """The request's global condition keys, by lower-case name (condition
    keys are case-insensitive: the engine reads them lower-cased)."""
    keys = dict(_principal_keys(ctx.principal))
    for name, value_of in _PER_REQUEST.items():
        keys[name] = value_of(ctx)
    return keys


def global_key(ctx: RequestContext, name: str) -> Any:
    """One key of :func:`global_keys` (lower-case name), None when absent,
    without building the others."""
    value_of = _PER_REQUEST.get(name)
    if value_of is not None:
        return value_of(ctx)
    return _principal_keys(ctx.principal).get(name)
