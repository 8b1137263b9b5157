"""Attaching managed policies to users, groups and roles, and who uses a policy."""

from __future__ import annotations

from strongroom.context import RequestContext
from strongroom.iam import records as rec
from strongroom.iam.errors import limit_exceeded, no_such_entity, validation
from strongroom.iam.records import ManagedPolicy
from strongroom.iam.repository import IamData, parse_policy_arn
from strongroom.services.iam.common import ATTACHED_LIMIT, Params, Result, page, require
from strongroom.services.iam.entities import GROUP, KINDS, ROLE, USER, EntityOperations, Kind

_ENTITY_FILTER = {k.title: k.kind for k in KINDS.values()}  # EntityFilter values


def _visible_policy(data: IamData, account: str, arn: str) -> ManagedPolicy:
    owner, _, _ = parse_policy_arn(arn)
    policy = data.policy(arn)
    if policy is None or (owner != rec.AWS_ACCOUNT and owner != account):
        raise no_such_entity(f"Policy {arn} does not exist or is not attachable.")
    return policy


class AttachmentOperations(EntityOperations):
    def _authorized(
        self, verb: str, kind: Kind, ctx: RequestContext, params: Params
    ) -> tuple[str, str]:
        """The entity's name and the policy ARN of an Attach/Detach the caller may make."""
        name = self.holder_name(kind, params)
        arn = str(require(params, "PolicyArn"))
        parse_policy_arn(arn)
        action = f"iam:{verb}{kind.title}Policy"
        self.target(ctx, action, kind.kind, name, conditions={"iam:PolicyARN": arn})
        return name, arn

    def _attach(self, kind: Kind, ctx: RequestContext, params: Params) -> Result:
        name, arn = self._authorized("Attach", kind, ctx, params)
        with self.write() as data:
            entity = data.require(ctx.account_id, kind.kind, name)
            policy = _visible_policy(data, ctx.account_id, arn)
            if policy.arn in entity.attached:
                return {}  # attaching twice is a no-op in IAM
            if len(entity.attached) >= ATTACHED_LIMIT:
                raise limit_exceeded(
                    f"Cannot exceed quota for PoliciesPer{kind.title}: {ATTACHED_LIMIT}"
                )
            entity.attached.append(policy.arn)
            data.put(entity)
            data.index_use(entity, policy, rec.PERMISSIONS)
        return {}

    def _detach(self, kind: Kind, ctx: RequestContext, params: Params) -> Result:
        name, arn = self._authorized("Detach", kind, ctx, params)
        with self.write() as data:
            entity = data.require(ctx.account_id, kind.kind, name)
            attached = next((a for a in entity.attached if a.lower() == arn.lower()), None)
            if attached is None:
                raise no_such_entity(f"Policy {arn} was not found.")
            entity.attached.remove(attached)
            data.put(entity)
            policy = data.policy(attached)
            if policy is not None:
                data.unindex_use(entity, policy, rec.PERMISSIONS)
        return {}

    def _list_attached(self, kind: Kind, ctx: RequestContext, params: Params) -> Result:
        name = self.holder_name(kind, params)
        entity = self.target(ctx, f"iam:ListAttached{kind.title}Policies", kind.kind, name)
        prefix = params.get("PathPrefix") or "/"
        rows = []
        for arn in entity.attached:
            _, path, policy_name = parse_policy_arn(arn)
            if path.startswith(prefix):
                rows.append({"PolicyName": policy_name, "PolicyArn": arn})
        chosen, extra = page(rows, params, lambda r: r["PolicyArn"])
        return {"AttachedPolicies": chosen, **extra}

    def attach_user_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._attach(USER, ctx, params)

    def attach_group_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._attach(GROUP, ctx, params)

    def attach_role_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._attach(ROLE, ctx, params)

    def detach_user_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._detach(USER, ctx, params)

    def detach_group_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._detach(GROUP, ctx, params)

    def detach_role_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._detach(ROLE, ctx, params)

    def list_attached_user_policies(self, ctx: RequestContext, params: Params) -> Result:
        return self._list_attached(USER, ctx, params)

    def list_attached_group_policies(self, ctx: RequestContext, params: Params) -> Result:
        return self._list_attached(GROUP, ctx, params)

    def list_attached_role_policies(self, ctx: RequestContext, params: Params) -> Result:
        return self._list_attached(ROLE, ctx, params)

    def list_entities_for_policy(self, ctx: RequestContext, params: Params) -> Result:
        arn = str(require(params, "PolicyArn"))
        policy = self.policy_target(ctx, "iam:ListEntitiesForPolicy", arn)
        entity_filter = params.get("EntityFilter")
        if entity_filter is not None and entity_filter not in (
            *_ENTITY_FILTER,
            "LocalManagedPolicy",
            "AWSManagedPolicy",
        ):
            raise validation(f"Value '{entity_filter}' at 'entityFilter' is not valid")
        usage = {"PermissionsPolicy": rec.PERMISSIONS, "PermissionsBoundary": rec.BOUNDARY}.get(
            params.get("PolicyUsageFilter") or ""
        )
        prefix = params.get("PathPrefix") or "/"
        data = self.read()
        rows: list[tuple[str, str, str]] = []  # (kind, name, id)
        if not (
            (entity_filter == "LocalManagedPolicy" and policy.is_aws_managed)
            or (entity_filter == "AWSManagedPolicy" and not policy.is_aws_managed)
        ):
            for _, kind, holder in data.policy_uses(ctx.account_id, policy, usage):
                wanted = _ENTITY_FILTER.get(entity_filter or "")
                if wanted is not None and kind != wanted:
                    continue
                if prefix != "/":
                    entity = data.get(ctx.account_id, kind, holder["name"])
                    if entity is None or not entity.path.startswith(prefix):
                        continue
                rows.append((kind, holder["name"], holder["id"]))
        rows = sorted(set(rows), key=lambda r: (r[0], r[1].lower()))
        chosen, extra = page(rows, params, lambda r: f"{r[0]}/{r[1].lower()}")
        out: Result = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
        for kind, name, entity_id in chosen:
            cap = KINDS[kind].title
            out[f"Policy{cap}s"].append({f"{cap}Name": name, f"{cap}Id": entity_id})
        return {**out, **extra}
