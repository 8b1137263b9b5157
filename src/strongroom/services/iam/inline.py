"""Inline policies of users, groups and roles (Put/Get/Delete/List *Policy).

The twelve operations are one behaviour over three entity kinds, so each
public method is a one-line binding of the kind-generic implementation.
"""

from __future__ import annotations

from strongroom.context import RequestContext
from strongroom.iam.errors import limit_exceeded, no_such_entity
from strongroom.iam.policy import PolicyKind
from strongroom.services.iam.common import (
    INLINE_LIMITS,
    POLICY_NAME_MAX,
    Params,
    Result,
    check_document,
    check_name,
    encode_document,
    page,
    policy_size,
    require,
)
from strongroom.services.iam.entities import GROUP, ROLE, USER, EntityOperations, Kind


class InlinePolicyOperations(EntityOperations):
    # -- the kind-generic implementation -------------------------------------

    def _put_inline(self, kind: Kind, ctx: RequestContext, params: Params) -> Result:
        name = self.holder_name(kind, params)
        policy_name = check_name(require(params, "PolicyName"), "policyName", POLICY_NAME_MAX)
        document = check_document(str(require(params, "PolicyDocument")), PolicyKind.IDENTITY)
        self.target(ctx, f"iam:Put{kind.title}Policy", kind.kind, name)
        with self.write() as data:
            entity = data.require(ctx.account_id, kind.kind, name)
            others = sum(
                policy_size(p["document"])
                for key, p in entity.inline.items()
                if key != policy_name.lower()
            )
            limit = INLINE_LIMITS[kind.kind]
            if others + policy_size(document) > limit:
                raise limit_exceeded(
                    f"Maximum policy size of {limit} bytes exceeded for {kind.kind} {entity.name}"
                )
            entity.inline[policy_name.lower()] = {"name": policy_name, "document": document}
            data.put(entity)
        return {}

    def _get_inline(self, kind: Kind, ctx: RequestContext, params: Params) -> Result:
        name = self.holder_name(kind, params)
        policy_name = check_name(require(params, "PolicyName"), "policyName")
        entity = self.target(ctx, f"iam:Get{kind.title}Policy", kind.kind, name)
        found = entity.inline.get(policy_name.lower())
        if found is None:
            raise no_such_entity(f"The {kind.kind} policy with name {policy_name} cannot be found.")
        return {
            kind.member: entity.name,
            "PolicyName": found["name"],
            "PolicyDocument": encode_document(found["document"]),
        }

    def _delete_inline(self, kind: Kind, ctx: RequestContext, params: Params) -> Result:
        name = self.holder_name(kind, params)
        policy_name = check_name(require(params, "PolicyName"), "policyName")
        self.target(ctx, f"iam:Delete{kind.title}Policy", kind.kind, name)
        with self.write() as data:
            entity = data.require(ctx.account_id, kind.kind, name)
            if entity.inline.pop(policy_name.lower(), None) is None:
                raise no_such_entity(
                    f"The {kind.kind} policy with name {policy_name} cannot be found."
                )
            data.put(entity)
        return {}

    def _list_inline(self, kind: Kind, ctx: RequestContext, params: Params) -> Result:
        name = self.holder_name(kind, params)
        entity = self.target(ctx, f"iam:List{kind.title}Policies", kind.kind, name)
        names = [entity.inline[k]["name"] for k in sorted(entity.inline)]
        chosen, extra = page(names, params, lambda n: n)
        return {"PolicyNames": chosen, **extra}

    # -- the operations -----------------------------------------------------

    def put_user_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._put_inline(USER, ctx, params)

    def get_user_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._get_inline(USER, ctx, params)

    def delete_user_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete_inline(USER, ctx, params)

    def list_user_policies(self, ctx: RequestContext, params: Params) -> Result:
        return self._list_inline(USER, ctx, params)

    def put_group_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._put_inline(GROUP, ctx, params)

    def get_group_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._get_inline(GROUP, ctx, params)

    def delete_group_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete_inline(GROUP, ctx, params)

    def list_group_policies(self, ctx: RequestContext, params: Params) -> Result:
        return self._list_inline(GROUP, ctx, params)

    def put_role_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._put_inline(ROLE, ctx, params)

    def get_role_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._get_inline(ROLE, ctx, params)

    def delete_role_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete_inline(ROLE, ctx, params)

    def list_role_policies(self, ctx: RequestContext, params: Params) -> Result:
        return self._list_inline(ROLE, ctx, params)
