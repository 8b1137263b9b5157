"""AWS policy evaluation: one request against one set of policies.

Sources (IAM User Guide):

* "Policy evaluation logic" / "Determining whether a request is allowed or
  denied within an account" (reference_policies_evaluation-logic);
* "Cross-account policy evaluation logic";
* "Permissions boundaries for IAM entities" (evaluating effective permissions);
* "NotPrincipal".

The rules implemented, in order:

1. An explicit Deny that applies, in any policy (identity, resource,
   boundary, session), decides: denied.
2. Within one account, identity-based and resource-based allows are a union,
   but *who* the resource policy names matters ("the principal ARN that is
   specified in the policy determines whether implicit denies in other policy
   types are applicable to the final decision"):

   * the calling user or session itself (or ``*``, a service, a federated
     principal): allowed, even with no identity policy and whatever the
     boundary or session policy say ("Permissions granted directly to a session
     are not limited by an implicit deny in an identity-based policy, a
     permissions boundary, or session policy"; same for an IAM user ARN);
   * the role behind a session (or the IAM user behind a federated session):
     "limited by an implicit deny in a permissions boundary or session policy";
   * the account (``123456789012`` / ``:root``): delegation to the account,
     so the identity-based side must allow on its own.

   The identity-based side allows when an identity policy allows and, if set,
   the boundary allows and, if present, a session policy allows.
3. Role trust policies and KMS key policies (``require_resource_policy``)
   "must explicitly allow access for principals": no allow there, no access,
   whatever the identity policies say.
4. Across accounts, "the request is allowed only if both evaluations return
   a decision of Allow": the resource policy must name the caller (in any of
   the three ways) and the identity-based side must allow.
5. A caller with no account (service principal, anonymous) is judged by the
   resource policy alone: it must name it directly (or ``*``).
6. The root user "has full access" in its own account: its identity side is
   always allowed (no boundary or session policy applies to root); explicit
   denies and a resource policy that must allow still bind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from strongroom.iam.policy.matching import Caller, Grant, account_of
from strongroom.iam.policy.model import (
    Decision,
    MatchedStatement,
    Policy,
    PolicySet,
    RequestInfo,
    Source,
    Statement,
)
from strongroom.iam.policy.variables import ContextView, Unresolved


def _request_matches(st: Statement, req: RequestInfo, ctx: ContextView) -> bool:
    """Action, Resource and Condition of one statement (not its Principal)."""
    if st.actions.matches(req.action) == st.not_action:
        return False
    try:
        if st.resources is not None and st.resources.matches(req.resource, ctx) == st.not_resource:
            return False
        return not st.conditions or all(c.test(ctx) for c in st.conditions)
    except Unresolved:
        # "If AWS cannot resolve a variable, this might cause the entire
        # statement to be invalid": an invalid statement neither allows nor denies.
        return False


def _matched(policy: Policy, source: Source, st: Statement) -> MatchedStatement:
    return policy.matched_statement(source, st.index)


def _scan(
    policies: Sequence[Policy],
    source: Source,
    req: RequestInfo,
    ctx: ContextView,
    denies: list[MatchedStatement],
) -> list[MatchedStatement]:
    """Allow statements that apply; applying Deny statements go to ``denies``."""
    allows: list[MatchedStatement] = []
    for policy in policies:
        for st in policy.statements:
            if _request_matches(st, req, ctx):
                (allows if st.allow else denies).append(_matched(policy, source, st))
    return allows


def _caller(req: RequestInfo, ctx: ContextView) -> Caller:
    svc = ctx.get("aws:principalservicename")
    return _make_caller(
        req.principal_arn, req.principal_account, req.principal_ids, svc[0].lower() if svc else None
    )


@lru_cache(maxsize=4096)
def _make_caller(arn: str, account: str, ids: tuple[str, ...], service: str | None) -> Caller:
    # memoized: the same principals call again and again
    accounts = {account} if account else set()
    parents: list[str] = []
    for ident in (arn, *ids):
        acct = account_of(ident)
        if acct is not None:
            accounts.add(acct)
        elif ident != arn:
            parents.append(ident)
    return Caller(arn=arn, parents=tuple(parents), accounts=frozenset(accounts), service=service)


def _scan_resource(
    policy: Policy,
    req: RequestInfo,
    ctx: ContextView,
    has_boundary: bool,
    denies: list[MatchedStatement],
) -> list[tuple[MatchedStatement, Grant]]:
    caller = _caller(req, ctx)
    grants: list[tuple[MatchedStatement, Grant]] = []
    for st in policy.statements:
        spec = st.principal
        if spec is None:
            # A principal-less statement in a resource policy (wrong kind passed
            # in): fail closed, its Deny applies and its Allow grants nothing.
            if not st.allow and _request_matches(st, req, ctx):
                denies.append(_matched(policy, "resource", st))
            continue
        grant: Grant | None
        if st.not_principal:
            # "The NotPrincipal element with a Deny effect will always deny any
            # IAM principal that has a permissions boundary policy attached"
            # (IAM User Guide, permissions boundaries).
            applies = spec.not_principal_applies(caller) or (not st.allow and has_boundary)
            grant = Grant.DIRECT if applies else None
        else:
            grant = spec.grant(caller)
        if grant is None or not _request_matches(st, req, ctx):
            continue
        if st.allow:
            grants.append((_matched(policy, "resource", st), grant))
        else:
            denies.append(_matched(policy, "resource", st))
    return grants


def _identity_gap(
    req: RequestInfo,
    policies: PolicySet,
    identity_ok: bool,
    boundary_ok: bool,
    session_ok: bool,
) -> str:
    what = f"{req.action} on {req.resource}"
    if not identity_ok:
        return f"no identity-based policy allows {what}"
    if not boundary_ok:
        label = policies.boundary.label if policies.boundary and policies.boundary.label else ""
        named = f" ({label})" if label else ""
        return f"blocked by permissions boundary{named}: it does not allow {what}"
    if not session_ok:
        return f"blocked by session policy: no session policy allows {what}"
    return ""  # pragma: no cover - callers only ask when the identity side failed


def evaluate(request: RequestInfo, policies: PolicySet, *, is_root: bool = False) -> Decision:
    """Decide ``request`` against ``policies``; never raises for parsed policies."""
    ctx = ContextView(request.context)
    denies: list[MatchedStatement] = []
    id_allows = _scan(policies.identity, "identity", request, ctx, denies)
    b_allows = (
        _scan((policies.boundary,), "boundary", request, ctx, denies) if policies.boundary else []
    )
    s_allows = _scan(policies.session, "session", request, ctx, denies) if policies.session else []
    resource = policies.resource
    grants = (
        _scan_resource(resource, request, ctx, policies.boundary is not None, denies)
        if resource is not None
        else []
    )
    if denies:
        return Decision(False, "explicit_deny", tuple(denies), None)

    identity_ok = bool(id_allows)
    boundary_ok = policies.boundary is None or bool(b_allows)
    session_ok = not policies.session or bool(s_allows)
    identity_side = is_root or (identity_ok and boundary_ok and session_ok)
    identity_matched = [*id_allows, *b_allows, *s_allows]

    direct = [m for m, g in grants if g is Grant.DIRECT]
    parent = [m for m, g in grants if g is Grant.PARENT] if boundary_ok and session_ok else []
    named = [m for m, _ in grants]
    # A caller without an account (a service principal, an anonymous caller)
    # has no identity-based side to evaluate: the resource policy alone decides,
    # as it does for a principal it names directly in the same account.
    same_account = (
        policies.resource_account is None
        or not request.principal_account
        or policies.resource_account == request.principal_account
    )

    used: list[MatchedStatement]
    if not same_account:
        allowed = bool(named) and identity_side
        used = [*identity_matched, *named]
    elif policies.require_resource_policy:
        if direct or parent:
            allowed, used = True, [*direct, *parent]
        else:
            allowed = bool(named) and identity_side
            used = [*identity_matched, *named]
    else:
        allowed = identity_side or bool(direct) or bool(parent)
        used = [*identity_matched, *direct, *parent] if allowed else identity_matched
    if allowed:
        return Decision(True, "allow", tuple(used), None)

    return Decision(
        False,
        "implicit_deny",
        tuple(used),
        _why(request, policies, grants, (identity_ok, boundary_ok, session_ok), same_account),
    )


def _why(
    req: RequestInfo,
    policies: PolicySet,
    grants: list[tuple[MatchedStatement, Grant]],
    sides: tuple[bool, bool, bool],
    same_account: bool,
) -> str:
    """The human reason for an implicit deny (Decision.missing)."""
    identity_ok, boundary_ok, session_ok = sides
    resource = policies.resource
    label = f" ({resource.label})" if resource is not None and resource.label else ""
    what = f"{req.action} on {req.resource}"
    prefix = "" if same_account else "cross-account request: "
    needs_resource = policies.require_resource_policy or not same_account
    if needs_resource and resource is None:
        return f"{prefix}no resource policy allows {what}, and one must"
    if needs_resource and not grants:
        return f"{prefix}the resource policy{label} does not allow {req.principal_arn} {what}"
    if not grants:
        return _identity_gap(req, policies, identity_ok, boundary_ok, session_ok)
    if not same_account:
        gap = _identity_gap(req, policies, identity_ok, boundary_ok, session_ok)
        return f"{prefix}the resource policy{label} allows it, but {gap}"
    if any(g is Grant.PARENT for _, g in grants):
        gap = _identity_gap(req, policies, True, boundary_ok, session_ok)
        return f"the resource policy{label} allows the role, but {gap}"
    gap = _identity_gap(req, policies, identity_ok, boundary_ok, session_ok)
    return f"the resource policy{label} grants {what} to the account only, and {gap}"
