"""The platform's Authorizer: gathers a principal's policies and asks the engine.

Services call ``ctx.authorize(action, resource, …)``; this is what answers.
The decision itself is the pure engine's (``strongroom.iam.policy``); this
module only assembles the question and words the denial as AWS does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.authz.context_keys import global_keys
from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.iam.identities import IdentityStore
from strongroom.iam.policy import (
    Decision,
    PolicyKind,
    PolicySet,
    RequestInfo,
    evaluate,
    parse_policy_cached,
)
from strongroom.iam.principal import PrincipalType
from strongroom.protocol.models import load_service


class PolicyAuthorizer:
    def __init__(self, identities: IdentityStore) -> None:
        self.identities = identities

    def decide(
        self,
        ctx: RequestContext,
        action: str,
        resource: str,
        *,
        resource_policy: str | None = None,
        resource_account: str | None = None,
        conditions: Mapping[str, Any] | None = None,
        require_resource_policy: bool = False,
        resource_policy_kind: PolicyKind = PolicyKind.RESOURCE,
    ) -> Decision:
        principal = ctx.principal
        context = global_keys(ctx)
        if conditions:
            context.update(conditions)
        if principal.is_root:
            identity: tuple[Any, ...] = ()
            boundary = None
            session: tuple[Any, ...] = ()
        else:
            found = self.identities.policies_for(principal)
            identity = tuple(
                parse_policy_cached(doc, PolicyKind.IDENTITY, label)
                for label, doc in found.identity
            )
            boundary = (
                parse_policy_cached(found.boundary[1], PolicyKind.BOUNDARY, found.boundary[0])
                if found.boundary
                else None
            )
            session = tuple(
                parse_policy_cached(doc, PolicyKind.SESSION, "session policy")
                for doc in found.session
            )
        principal_ids = [principal.arn]
        if principal.type is PrincipalType.ASSUMED_ROLE:
            principal_ids.append(principal.identity_arn)
        request = RequestInfo(
            action=action,
            resource=resource,
            principal_arn=principal.arn,
            principal_account=principal.account_id,
            context=context,
            principal_ids=tuple(principal_ids),
        )
        policies = PolicySet(
            identity=identity,
            resource=(
                parse_policy_cached(resource_policy, resource_policy_kind, "resource-based policy")
                if resource_policy
                else None
            ),
            resource_account=resource_account or principal.account_id,
            boundary=boundary,
            session=session,
            require_resource_policy=require_resource_policy,
        )
        return evaluate(request, policies, is_root=principal.is_root)

    def authorize(
        self,
        ctx: RequestContext,
        action: str,
        resource: str,
        *,
        resource_policy: str | None = None,
        resource_account: str | None = None,
        conditions: Mapping[str, Any] | None = None,
        require_resource_policy: bool = False,
        resource_policy_kind: PolicyKind = PolicyKind.RESOURCE,
    ) -> None:
        decision = self.decide(
            ctx,
            action,
            resource,
            resource_policy=resource_policy,
            resource_account=resource_account,
            conditions=conditions,
            require_resource_policy=require_resource_policy,
            resource_policy_kind=resource_policy_kind,
        )
        if not decision.allowed:
            raise _denied(ctx, action, resource, decision)


def _denied(ctx: RequestContext, action: str, resource: str, decision: Decision) -> ServiceError:
    if decision.kind == "explicit_deny":
        why = "with an explicit deny in a policy"
    else:
        why = f"because {decision.missing}" if decision.missing else "because no policy allows it"
    message = (
        f"User: {ctx.principal.arn} is not authorized to perform: {action} "
        f"on resource: {resource} {why}"
    )
    # Query services (IAM, STS) say AccessDenied/403; JSON services AccessDeniedException/400.
    if load_service(ctx.service).protocol == "query":
        return ServiceError("AccessDenied", message, 403)
    return ServiceError("AccessDeniedException", message, 400)
