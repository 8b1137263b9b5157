"""IAM groups and group membership."""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.iam.errors import already_exists, delete_conflict, limit_exceeded, no_such_entity
from strongroom.iam.ids import GROUP_PREFIX, iso, new_id
from strongroom.iam.records import Entity
from strongroom.services.iam.common import (
    NAME_LIMITS,
    IamBase,
    check_name,
    check_path,
    group_out,
    max_items,
    page,
    paged,
    require,
    user_out,
)

GROUPS_PER_USER = 10


class GroupOperations(IamBase):
    def create_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "GroupName"), "groupName", NAME_LIMITS["group"])
        path = check_path(params.get("Path"))
        ctx.authorize("iam:CreateGroup", f"arn:aws:iam::{ctx.account_id}:group{path}{name}")
        with self.write() as data:
            if data.get(ctx.account_id, "group", name) is not None:
                raise already_exists(f"Group with name {name} already exists.")
            group = Entity(
                kind="group",
                account=ctx.account_id,
                name=name,
                path=path,
                id=new_id(GROUP_PREFIX),
                created=iso(self.now(ctx)),
            )
            data.put(group)
        return {"Group": group_out(group)}

    def get_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "GroupName"), "groupName")
        group = self.target(ctx, "iam:GetGroup", "group", name)
        data = self.read()
        members = data.member_names(ctx.account_id, group.name)
        chosen, extra = page(members, params, lambda m: m)
        users = [data.get(ctx.account_id, "user", m) for m in chosen]
        return {
            "Group": group_out(group),
            "Users": [user_out(u) for u in users if u is not None],
            **extra,
        }

    def list_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ctx.authorize("iam:ListGroups", "*")
        groups, marker = self.read().entities(
            ctx.account_id,
            "group",
            path_prefix=params.get("PathPrefix") or "/",
            marker=params.get("Marker") or "",
            limit=max_items(params),
        )
        return {"Groups": [group_out(g) for g in groups], **paged(marker)}

    def update_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "GroupName"), "groupName")
        new_name = params.get("NewGroupName")
        new_path = params.get("NewPath")
        if new_name is not None:
            check_name(new_name, "newGroupName", NAME_LIMITS["group"])
        if new_path is not None:
            check_path(new_path)
        current = self.target(ctx, "iam:UpdateGroup", "group", name)
        if new_name is not None:
            new_arn = f"arn:aws:iam::{ctx.account_id}:group{new_path or current.path}{new_name}"
            ctx.authorize("iam:UpdateGroup", new_arn)
        with self.write() as data:
            group = data.require(ctx.account_id, "group", name)
            target_name = new_name if new_name is not None else group.name
            if (
                target_name.lower() != group.name.lower()
                and data.get(ctx.account_id, "group", target_name) is not None
            ):
                raise already_exists(f"Group with name {target_name} already exists.")
            data.rename(group, target_name, new_path or group.path)
        return {}

    def delete_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "GroupName"), "groupName")
        self.target(ctx, "iam:DeleteGroup", "group", name)
        with self.write() as data:
            group = data.require(ctx.account_id, "group", name)
            if data.member_names(ctx.account_id, group.name):
                raise delete_conflict("Cannot delete entity, must remove users from group first.")
            if group.inline or group.attached:
                raise delete_conflict("Cannot delete entity, must delete policies first.")
            data.delete(group)
        return {}

    def add_user_to_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group_name = check_name(require(params, "GroupName"), "groupName")
        user_name = check_name(require(params, "UserName"), "userName")
        self.target(ctx, "iam:AddUserToGroup", "group", group_name)
        with self.write() as data:
            group = data.require(ctx.account_id, "group", group_name)
            user = data.require(ctx.account_id, "user", user_name)
            if group.name.lower() in user.groups:
                return {}
            if len(user.groups) >= GROUPS_PER_USER:
                raise limit_exceeded(f"Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")
            user.groups.append(group.name.lower())
            data.put(user)
            data.add_member(group, user)
        return {}

    def remove_user_from_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group_name = check_name(require(params, "GroupName"), "groupName")
        user_name = check_name(require(params, "UserName"), "userName")
        self.target(ctx, "iam:RemoveUserFromGroup", "group", group_name)
        with self.write() as data:
            group = data.require(ctx.account_id, "group", group_name)
            user = data.require(ctx.account_id, "user", user_name)
            if group.name.lower() not in user.groups:
                raise no_such_entity(
                    f"The user with name {user.name} is not a member of group {group.name}."
                )
            user.groups.remove(group.name.lower())
            data.put(user)
            data.remove_member(group, user)
        return {}

    def list_groups_for_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "UserName"), "userName")
        user = self.target(ctx, "iam:ListGroupsForUser", "user", name)
        data = self.read()
        groups = [
            g for g in (data.get(ctx.account_id, "group", n) for n in sorted(user.groups)) if g
        ]
        chosen, extra = page(groups, params, lambda g: g.name.lower())
        return {"Groups": [group_out(g) for g in chosen], **extra}
