"""IAM users: CreateUser … DeleteUser, user tags and permissions boundaries."""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.iam.errors import delete_conflict
from strongroom.iam.principal import PrincipalType
from strongroom.services.iam.common import check_path, check_tags, ts, user_out
from strongroom.services.iam.entities import USER, EntityOperations, drop_boundary_use


class UserOperations(EntityOperations):
    def create_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.entity_name(USER, params, USER.new_name_max)
        path = check_path(params.get("Path"))
        tags = check_tags(params.get("Tags"))
        boundary = params.get("PermissionsBoundary")
        user = self.create_entity(ctx, USER, name, path, tags=tags, boundary=boundary)
        return {"User": user_out(user, full=True)}

    def get_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("UserName") is None and ctx.principal.type is PrincipalType.ROOT:
            # The root user has no IAM user record; IAM describes it from the account.
            ctx.authorize("iam:GetUser", ctx.principal.arn)
            account = self.read().account(ctx.account_id) or {}
            out: dict[str, Any] = {"Path": "/", "UserId": ctx.account_id, "Arn": ctx.principal.arn}
            if "created" in account:
                out["CreateDate"] = ts(account["created"])
            return {"User": out}
        name = self.caller_user_name(ctx, params)
        assert name is not None
        user = self.target(ctx, "iam:GetUser", "user", name)
        return {"User": user_out(user, full=True)}

    def list_users(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.list_entities(ctx, USER, params, user_out)

    def update_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.rename_entity(ctx, USER, params)

    def delete_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.entity_name(USER, params)
        self.target(ctx, "iam:DeleteUser", "user", name)
        with self.write() as data:
            user = data.require(ctx.account_id, "user", name)
            if data.owned_keys(ctx.account_id, user.name):
                raise delete_conflict("Cannot delete entity, must delete access keys first.")
            if user.inline or user.attached:
                raise delete_conflict("Cannot delete entity, must delete policies first.")
            if user.groups:
                raise delete_conflict("Cannot delete entity, must remove users from group first.")
            drop_boundary_use(data, user)
            data.delete(user)
        return {}

    # -- tags and permissions boundary (entities.py, shared with roles) --------

    def tag_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.tag_entity(ctx, USER, params)

    def untag_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.untag_entity(ctx, USER, params)

    def list_user_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.list_entity_tags(ctx, USER, params)

    def put_user_permissions_boundary(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self.put_boundary(ctx, USER, params)

    def delete_user_permissions_boundary(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self.delete_boundary(ctx, USER, params)
