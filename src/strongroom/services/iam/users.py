"""IAM users: CreateUser … DeleteUser, and user tags."""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.iam import records as rec
from strongroom.iam.errors import already_exists, delete_conflict
from strongroom.iam.ids import USER_PREFIX, iso, new_id
from strongroom.iam.principal import PrincipalType
from strongroom.iam.records import Entity
from strongroom.services.iam.common import (
    NAME_LIMITS,
    IamBase,
    check_name,
    check_path,
    check_tags,
    max_items,
    merge_tags,
    page,
    paged,
    remove_tags,
    require,
    tag_conditions,
    ts,
    user_out,
)


class UserOperations(IamBase):
    def create_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "UserName"), "userName", NAME_LIMITS["user"])
        path = check_path(params.get("Path"))
        tags = check_tags(params.get("Tags"))
        boundary = params.get("PermissionsBoundary")
        conditions = tag_conditions(tags) if tags else {}
        if boundary:
            conditions["iam:PermissionsBoundary"] = boundary
        arn = f"arn:aws:iam::{ctx.account_id}:user{path}{name}"
        ctx.authorize("iam:CreateUser", arn, conditions=conditions or None)
        if tags:
            ctx.authorize("iam:TagUser", arn, conditions=conditions)
        with self.write() as data:
            if data.get(ctx.account_id, "user", name) is not None:
                raise already_exists(f"User with name {name} already exists.")
            user = Entity(
                kind="user",
                account=ctx.account_id,
                name=name,
                path=path,
                id=new_id(USER_PREFIX),
                created=iso(self.now(ctx)),
                tags=tags,
            )
            if boundary:
                policy = data.require_policy(str(boundary))
                user.boundary = policy.arn
                data.index_use(user, policy, rec.BOUNDARY)
            data.put(user)
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
        ctx.authorize("iam:ListUsers", "*")
        users, marker = self.read().entities(
            ctx.account_id,
            "user",
            path_prefix=params.get("PathPrefix") or "/",
            marker=params.get("Marker") or "",
            limit=max_items(params),
        )
        return {"Users": [user_out(u) for u in users], **paged(marker)}

    def update_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "UserName"), "userName", 128)
        new_name = params.get("NewUserName")
        new_path = params.get("NewPath")
        if new_name is not None:
            check_name(new_name, "newUserName", NAME_LIMITS["user"])
        if new_path is not None:
            check_path(new_path)
        current = self.target(ctx, "iam:UpdateUser", "user", name)
        if new_name is not None:
            # Renaming needs permission on both the old and the new identity.
            new_arn = f"arn:aws:iam::{ctx.account_id}:user{new_path or current.path}{new_name}"
            ctx.authorize("iam:UpdateUser", new_arn)
        with self.write() as data:
            user = data.require(ctx.account_id, "user", name)
            target_name = new_name if new_name is not None else user.name
            if (
                target_name.lower() != user.name.lower()
                and data.get(ctx.account_id, "user", target_name) is not None
            ):
                raise already_exists(f"User with name {target_name} already exists.")
            data.rename(user, target_name, new_path or user.path)
        return {}

    def delete_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "UserName"), "userName", 128)
        self.target(ctx, "iam:DeleteUser", "user", name)
        with self.write() as data:
            user = data.require(ctx.account_id, "user", name)
            if data.owned_keys(ctx.account_id, user.name):
                raise delete_conflict("Cannot delete entity, must delete access keys first.")
            if user.inline or user.attached:
                raise delete_conflict("Cannot delete entity, must delete policies first.")
            if user.groups:
                raise delete_conflict("Cannot delete entity, must remove users from group first.")
            if user.boundary:
                boundary = data.policy(user.boundary)
                if boundary is not None:
                    data.unindex_use(user, boundary, rec.BOUNDARY)
            data.delete(user)
        return {}

    # -- tags ---------------------------------------------------------------

    def tag_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "UserName"), "userName", 128)
        tags = check_tags(require(params, "Tags"))
        self.target(ctx, "iam:TagUser", "user", name, conditions=tag_conditions(tags))
        with self.write() as data:
            user = data.require(ctx.account_id, "user", name)
            user.tags = merge_tags(user.tags, tags)
            data.put(user)
        return {}

    def untag_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "UserName"), "userName", 128)
        keys = [str(k) for k in require(params, "TagKeys")]
        self.target(ctx, "iam:UntagUser", "user", name, conditions={"aws:TagKeys": keys})
        with self.write() as data:
            user = data.require(ctx.account_id, "user", name)
            user.tags = remove_tags(user.tags, keys)
            data.put(user)
        return {}

    def list_user_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "UserName"), "userName", 128)
        user = self.target(ctx, "iam:ListUserTags", "user", name)
        tags, extra = page(user.tags, params, lambda t: t["Key"])
        return {"Tags": tags, **extra}

    # -- permissions boundary -------------------------------------------------

    def put_user_permissions_boundary(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = check_name(require(params, "UserName"), "userName", NAME_LIMITS["user"])
        arn = str(require(params, "PermissionsBoundary"))
        self.target(
            ctx,
            "iam:PutUserPermissionsBoundary",
            "user",
            name,
            conditions={"iam:PermissionsBoundary": arn},
        )
        self.set_boundary(ctx, "user", name, arn)
        return {}

    def delete_user_permissions_boundary(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = check_name(require(params, "UserName"), "userName", NAME_LIMITS["user"])
        self.target(ctx, "iam:DeleteUserPermissionsBoundary", "user", name)
        self.set_boundary(ctx, "user", name, None)
        return {}
