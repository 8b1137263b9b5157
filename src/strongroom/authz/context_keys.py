"""The global condition keys AWS puts in every request context.

Names and value rules follow the IAM User Guide's "AWS global condition
context keys" page: keys that AWS omits for a kind of principal are omitted
here too (``aws:username`` exists only for IAM users; ``aws:MultiFactorAuthPresent``
only for temporary credentials), because ``…IfExists`` and ``Null`` conditions
can observe the difference.
"""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.iam.principal import PrincipalType

_PRINCIPAL_TYPE_KEY = {
    PrincipalType.ROOT: "Account",
    PrincipalType.USER: "User",
    PrincipalType.ASSUMED_ROLE: "AssumedRole",
    PrincipalType.FEDERATED_USER: "FederatedUser",
}


def global_keys(ctx: RequestContext) -> dict[str, Any]:
    p = ctx.principal
    keys: dict[str, Any] = {
        "aws:SourceIp": ctx.source_ip,
        "aws:CurrentTime": ctx.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": int(ctx.now.timestamp()),
        "aws:SecureTransport": ctx.secure_transport,
        # For a role session, aws:PrincipalArn is the role's ARN, not the session's.
        "aws:PrincipalArn": p.identity_arn,
        "aws:PrincipalAccount": p.account_id,
        "aws:PrincipalType": _PRINCIPAL_TYPE_KEY[p.type],
        "aws:userid": p.principal_id,
        "aws:RequestedRegion": ctx.region,
        "aws:ViaAWSService": False,
        "aws:CalledVia": [],
    }
    if p.user_name is not None and p.type is PrincipalType.USER:
        keys["aws:username"] = p.user_name
    if p.session is not None:
        keys["aws:MultiFactorAuthPresent"] = p.session.mfa_authenticated
        keys["aws:TokenIssueTime"] = p.session.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        if p.session.source_identity:
            keys["aws:SourceIdentity"] = p.session.source_identity
    for tag_key, tag_value in p.tags.items():
        keys[f"aws:PrincipalTag/{tag_key}"] = tag_value
    return keys
