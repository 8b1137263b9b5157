"""The policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy.

Both run the same engine the gateway authorizes with, so a simulation
answers exactly what a real request would get (minus conditions the caller
does not supply, which the result lists as missing context values).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strongroom.context import RequestContext
from strongroom.iam.errors import invalid_input
from strongroom.iam.identities import entity_policies
from strongroom.iam.policy import (
    Decision,
    MalformedPolicy,
    Policy,
    PolicyKind,
    PolicySet,
    RequestInfo,
    evaluate,
    parse_policy,
)
from strongroom.iam.records import AWS_ACCOUNT
from strongroom.services.iam.common import IamBase, page, require

Params = dict[str, Any]
Result = dict[str, Any]

_DECISION = {"allow": "allowed", "explicit_deny": "explicitDeny", "implicit_deny": "implicitDeny"}
_LIST_TYPES = {"stringList", "numericList", "booleanList", "ipList", "binaryList", "dateList"}


def _parse(text: str, kind: PolicyKind, label: str) -> Policy:
    try:
        return parse_policy(text, kind=kind, label=label)
    except MalformedPolicy as exc:
        raise invalid_input(f"{label}: {exc}") from exc


def _source(label: str) -> tuple[str, str]:
    """(SourcePolicyId, SourcePolicyType) for a policy label."""
    if label.startswith("arn:"):
        owner = label.split(":")[4]
        name = label.rsplit("/", 1)[-1]
        return name, "aws-managed" if owner == AWS_ACCOUNT else "user-managed"
    if label.startswith(("user/", "group/", "role/")):
        kind, _, rest = label.partition("/")
        return rest.rsplit("/", 1)[-1], kind
    if label == "ResourcePolicy":
        return label, "resource"
    return label, "none"


def _context(entries: Sequence[dict[str, Any]] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in entries or ():
        name = str(entry.get("ContextKeyName", ""))
        values = [str(v) for v in entry.get("ContextKeyValues") or ()]
        if entry.get("ContextKeyType") in _LIST_TYPES or len(values) > 1:
            out[name] = values
        else:
            out[name] = values[0] if values else ""
    return out


def _result(
    decision: Decision,
    action: str,
    resource: str,
    policies: Sequence[Policy],
    context: dict[str, Any],
    allowed_by_boundary: bool | None,
) -> dict[str, Any]:
    statements = []
    for matched in decision.matched:
        source_id, source_type = _source(matched.policy)
        statements.append({"SourcePolicyId": source_id, "SourcePolicyType": source_type})
    provided = {k.lower() for k in context}
    missing = sorted(
        {key for p in policies for key in p.context_keys if key.lower() not in provided}
    )
    out: dict[str, Any] = {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": _DECISION[decision.kind],
        "MatchedStatements": statements,
        "MissingContextValues": missing,
    }
    if allowed_by_boundary is not None:
        out["PermissionsBoundaryDecisionDetail"] = {
            "AllowedByPermissionsBoundary": allowed_by_boundary
        }
    return out


class SimulationOperations(IamBase):
    def simulate_principal_policy(self, ctx: RequestContext, params: Params) -> Result:
        source_arn = str(require(params, "PolicySourceArn"))
        ctx.authorize("iam:SimulatePrincipalPolicy", source_arn)
        kind, name = self._source_entity(ctx, source_arn)
        data = self.read()
        entity = data.require(ctx.account_id, kind, name)
        documents, boundary_doc = entity_policies(data, entity)
        identity = [_parse(doc, PolicyKind.IDENTITY, label) for label, doc in documents]
        boundary = (
            _parse(boundary_doc[1], PolicyKind.BOUNDARY, boundary_doc[0]) if boundary_doc else None
        )
        context = {"aws:PrincipalArn": entity.arn}
        if kind == "user":
            context.update({"aws:username": entity.name, "aws:userid": entity.id})
        return self._simulate(ctx, params, identity, boundary, entity.arn, context)

    def simulate_custom_policy(self, ctx: RequestContext, params: Params) -> Result:
        ctx.authorize("iam:SimulateCustomPolicy", "*")
        require(params, "PolicyInputList")
        caller = params.get("CallerArn") or ctx.principal.arn
        return self._simulate(ctx, params, [], None, str(caller), {})

    def _simulate(
        self,
        ctx: RequestContext,
        params: Params,
        identity: list[Policy],
        boundary: Policy | None,
        caller: str,
        base_context: dict[str, Any],
    ) -> Result:
        for i, doc in enumerate(params.get("PolicyInputList") or (), start=1):
            identity.append(_parse(str(doc), PolicyKind.IDENTITY, f"PolicyInputList.{i}"))
        for i, doc in enumerate(params.get("PermissionsBoundaryPolicyInputList") or (), start=1):
            # A boundary given as input replaces the entity's own.
            boundary = _parse(
                str(doc), PolicyKind.BOUNDARY, f"PermissionsBoundaryPolicyInputList.{i}"
            )
        resource_policy = None
        if params.get("ResourcePolicy"):
            resource_policy = _parse(
                str(params["ResourcePolicy"]), PolicyKind.RESOURCE, "ResourcePolicy"
            )
        owner = params.get("ResourceOwner")
        resource_account = str(owner).split(":")[4] if owner and ":" in str(owner) else owner
        context = {**base_context, **_context(params.get("ContextEntries"))}
        actions = [str(a) for a in require(params, "ActionNames")]
        resources = [str(r) for r in params.get("ResourceArns") or ["*"]]
        caller_parts = caller.split(":")
        caller_account = caller_parts[4] if len(caller_parts) > 4 else ctx.account_id
        policy_set = PolicySet(
            identity=tuple(identity),
            resource=resource_policy,
            resource_account=resource_account,
            boundary=boundary,
        )
        everything = list(identity)
        everything += [p for p in (boundary, resource_policy) if p is not None]
        results = []
        for action in actions:
            for resource in resources:
                request = RequestInfo(
                    action=action,
                    resource=resource,
                    principal_arn=caller,
                    principal_account=caller_account or ctx.account_id,
                    context=context,
                )
                decision = evaluate(request, policy_set)
                by_boundary = None
                if boundary is not None:
                    # The boundary on its own: does it allow this request at all?
                    alone = evaluate(request, PolicySet(identity=(boundary,)))
                    by_boundary = alone.allowed
                results.append(
                    _result(decision, action, resource, everything, context, by_boundary)
                )
        indexed = list(enumerate(results))
        chosen, extra = page(indexed, params, lambda item: str(item[0]))
        return {"EvaluationResults": [r for _, r in chosen], **extra}

    @staticmethod
    def _source_entity(ctx: RequestContext, arn: str) -> tuple[str, str]:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "iam" or parts[4] != ctx.account_id:
            raise invalid_input(f"Invalid ARN: {arn}")
        kind, _, rest = parts[5].partition("/")
        if kind not in ("user", "group", "role") or not rest:
            raise invalid_input(f"Invalid ARN: {arn}; must be a user, group or role.")
        return kind, rest.rsplit("/", 1)[-1]
