"""The platform's Authorizer: gathers a principal's policies and asks the engine.

Services call ``ctx.authorize(action, resource, …)``; this is what answers.
The decision itself is the pure engine's (``strongroom.iam.policy``); this
module only assembles the question and words the denial as AWS does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.authz.context_keys import global_key, global_keys
from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.iam.identities import IdentityStore, PrincipalPolicies
from strongroom.iam.policy import (
    Decision,
    Policy,
    PolicyKind,
    PolicySet,
    RequestInfo,
    evaluate,
    parse_policy_cached,
)
from strongroom.iam.policy.variables import as_values
from strongroom.iam.principal import PrincipalType
from strongroom.protocol.models import load_service

# Context keys the engine reads whatever the policies say (service principals).
_ALWAYS_READ = ("aws:principalservicename",)


class DecisionCache:
    """Decisions memoized on everything ``evaluate`` reads.

    The engine is pure (no I/O, no clock): its answer is a function of the
    question (action, resource, principal and its ids), of the parsed
    policies (immutable objects, one per document text: a changed policy is
    another object, so nothing here ever goes stale) and of the values of
    the context keys those policies read, which each Policy lists
    (``context_keys``: condition keys and ${variables}). A request's other
    context keys cannot change the answer, so repeated calls by one
    principal under the same policies are decided once. A policy that reads
    aws:CurrentTime or aws:SourceIp keys on their values, and simply hits
    less often.
    """

    def __init__(self, max_entries: int = 20_000) -> None:
        self._max = max_entries
        self._decisions: dict[tuple[Any, ...], Decision] = {}
        self._reads: dict[tuple[Policy | None, ...], tuple[str, ...]] = {}

    def keys_read(self, policies: tuple[Policy | None, ...]) -> tuple[str, ...]:
        """The (lower-case) context keys a set of policies can read."""
        names = self._reads.get(policies)
        if names is None:
            found = {k.lower() for p in policies if p is not None for k in p.context_keys}
            names = tuple(sorted(found.union(_ALWAYS_READ)))
            if len(self._reads) >= self._max:
                self._reads.clear()
            self._reads[policies] = names
        return names

    def get(self, key: tuple[Any, ...]) -> Decision | None:
        return self._decisions.get(key)

    def put(self, key: tuple[Any, ...], decision: Decision) -> None:
        if len(self._decisions) >= self._max:
            self._decisions.clear()
        self._decisions[key] = decision


_NONE: dict[str, Any] = {}
# Services pass the same condition names call after call (KMS: a dozen per
# request): their lower-case forms, per tuple of names. Bounded.
_lower_names: dict[tuple[str, ...], tuple[str, ...]] = {}
_LOWER_NAMES_MAX = 10_000


def _lowered(conditions: Mapping[str, Any]) -> dict[str, Any]:
    """Service-supplied condition keys by lower-case name."""
    names = tuple(conditions)
    lower = _lower_names.get(names)
    if lower is None:
        lower = tuple(name.lower() for name in names)
        if len(_lower_names) >= _LOWER_NAMES_MAX:
            _lower_names.clear()
        _lower_names[names] = lower
    return dict(zip(lower, conditions.values(), strict=True))


_Parsed = tuple[tuple[Policy, ...], Policy | None, tuple[Policy, ...]]


class PolicyAuthorizer:
    def __init__(self, identities: IdentityStore) -> None:
        self.identities = identities
        self._decisions = DecisionCache()
        # The parsed form of each PrincipalPolicies the identity store hands
        # out (it caches them, so a caller's requests share one), by id and
        # held so that the id is not reused: looking every document up in
        # parse_policy_cached cost more than the rest of a cached decision.
        self._parsed_policies: dict[int, tuple[PrincipalPolicies, _Parsed]] = {}

    def _parsed(self, found: PrincipalPolicies) -> _Parsed:
        hit = self._parsed_policies.get(id(found))
        if hit is not None and hit[0] is found:
            return hit[1]
        parsed: _Parsed = (
            tuple(
                parse_policy_cached(doc, PolicyKind.IDENTITY, label)
                for label, doc in found.identity
            ),
            parse_policy_cached(found.boundary[1], PolicyKind.BOUNDARY, found.boundary[0])
            if found.boundary
            else None,
            tuple(
                parse_policy_cached(doc, PolicyKind.SESSION, "session policy")
                for doc in found.session
            ),
        )
        if len(self._parsed_policies) >= 10_000:
            self._parsed_policies.clear()
        self._parsed_policies[id(found)] = (found, parsed)
        return parsed

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
        service_keys = _lowered(conditions) if conditions else _NONE
        if principal.is_root:
            identity: tuple[Any, ...] = ()
            boundary = None
            session: tuple[Any, ...] = ()
        else:
            identity, boundary, session = self._parsed(self.identities.policies_for(principal))
        principal_ids: tuple[str, ...] = (principal.arn,)
        if principal.type is PrincipalType.ASSUMED_ROLE:
            principal_ids = (principal.arn, principal.identity_arn)
        resource_doc = (
            parse_policy_cached(resource_policy, resource_policy_kind, "resource-based policy")
            if resource_policy
            else None
        )
        owner = resource_account or principal.account_id
        read = self._decisions.keys_read((*identity, *session, boundary, resource_doc))
        key = (
            action,
            resource,
            principal.arn,
            principal.account_id,
            principal_ids,
            principal.is_root,
            identity,
            session,
            boundary,
            resource_doc,
            owner,
            require_resource_policy,
            # Only the keys the policies read, each looked up alone: a hit
            # builds no request context at all.
            tuple(
                [
                    as_values(service_keys[name] if name in service_keys else global_key(ctx, name))
                    for name in read
                ]
            ),
        )
        decision = self._decisions.get(key)
        if decision is not None:
            return decision
        context = global_keys(ctx)
        context.update(service_keys)
        request = RequestInfo(
            action=action,
            resource=resource,
            principal_arn=principal.arn,
            principal_account=principal.account_id,
            context=context,
            principal_ids=principal_ids,
        )
        policies = PolicySet(
            identity=identity,
            resource=resource_doc,
            resource_account=owner,
            boundary=boundary,
            session=session,
            require_resource_policy=require_resource_policy,
        )
        decision = evaluate(request, policies, is_root=principal.is_root)
        self._decisions.put(key, decision)
        return decision

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
