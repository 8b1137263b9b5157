"""Inline policies of users, groups and roles (Put/Get/Delete/List *Policy).

The twelve operations are one behaviour over three entity kinds, so each
public method is a one-line binding of the kind-generic implementation.
"""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.iam.errors import limit_exceeded, no_such_entity
from strongroom.iam.policy import PolicyKind
from strongroom.services.iam.common import (
    INLINE_LIMITS,
    NAME_LIMITS,
    IamBase,
    check_document,
    check_name,
    encode_document,
    page,
    policy_size,
    require,
)

_MEMBER = {"user": "UserName", "group": "GroupName", "role": "RoleName"}
_ACTION = {"user": "User", "group": "Group", "role": "Role"}

Params = dict[str, Any]
Result = dict[str, Any]


class InlinePolicyOperations(IamBase):
    # -- the kind-generic implementation -------------------------------------

    def _entity_name(self, kind: str, params: Params) -> str:
        member = _MEMBER[kind]
        return check_name(require(params, member), member[0].lower() + member[1:], 128)

    def _put_inline(self, kind: str, ctx: RequestContext, params: Params) -> Result:
        name = self._entity_name(kind, params)
        policy_name = check_name(require(params, "PolicyName"), "policyName", NAME_LIMITS["policy"])
        document = check_document(str(require(params, "PolicyDocument")), PolicyKind.IDENTITY)
        self.target(ctx, f"iam:Put{_ACTION[kind]}Policy", kind, name)
        with self.write() as data:
            entity = data.require(ctx.account_id, kind, name)
            others = sum(
                policy_size(p["document"])
                for key, p in entity.inline.items()
                if key != policy_name.lower()
            )
            limit = INLINE_LIMITS[kind]
            if others + policy_size(document) > limit:
                raise limit_exceeded(
                    f"Maximum policy size of {limit} bytes exceeded for {kind} {entity.name}"
                )
            entity.inline[policy_name.lower()] = {"name": policy_name, "document": document}
            data.put(entity)
        return {}

    def _get_inline(self, kind: str, ctx: RequestContext, params: Params) -> Result:
        name = self._entity_name(kind, params)
        policy_name = check_name(require(params, "PolicyName"), "policyName")
        entity = self.target(ctx, f"iam:Get{_ACTION[kind]}Policy", kind, name)
        found = entity.inline.get(policy_name.lower())
        if found is None:
            raise no_such_entity(f"The {kind} policy with name {policy_name} cannot be found.")
        return {
            _MEMBER[kind]: entity.name,
            "PolicyName": found["name"],
            "PolicyDocument": encode_document(found["document"]),
        }

    def _delete_inline(self, kind: str, ctx: RequestContext, params: Params) -> Result:
        name = self._entity_name(kind, params)
        policy_name = check_name(require(params, "PolicyName"), "policyName")
        self.target(ctx, f"iam:Delete{_ACTION[kind]}Policy", kind, name)
        with self.write() as data:
            entity = data.require(ctx.account_id, kind, name)
            if entity.inline.pop(policy_name.lower(), None) is None:
                raise no_such_entity(f"The {kind} policy with name {policy_name} cannot be found.")
            data.put(entity)
        return {}

    def _list_inline(self, kind: str, ctx: RequestContext, params: Params) -> Result:
        name = self._entity_name(kind, params)
        entity = self.target(ctx, f"iam:List{_ACTION[kind]}Policies", kind, name)
        names = [entity.inline[k]["name"] for k in sorted(entity.inline)]
        chosen, extra = page(names, params, lambda n: n)
        return {"PolicyNames": chosen, **extra}

    # -- the operations -----------------------------------------------------

    def put_user_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._put_inline("user", ctx, params)

    def get_user_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._get_inline("user", ctx, params)

    def delete_user_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete_inline("user", ctx, params)

    def list_user_policies(self, ctx: RequestContext, params: Params) -> Result:
        return self._list_inline("user", ctx, params)

    def put_group_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._put_inline("group", ctx, params)

    def get_group_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._get_inline("group", ctx, params)

    def delete_group_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete_inline("group", ctx, params)

    def list_group_policies(self, ctx: RequestContext, params: Params) -> Result:
        return self._list_inline("group", ctx, params)

    def put_role_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._put_inline("role", ctx, params)

    def get_role_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._get_inline("role", ctx, params)

    def delete_role_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete_inline("role", ctx, params)

    def list_role_policies(self, ctx: RequestContext, params: Params) -> Result:
        return self._list_inline("role", ctx, params)
