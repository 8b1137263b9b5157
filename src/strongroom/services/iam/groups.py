"""IAM groups and group membership."""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.iam.errors import delete_conflict, limit_exceeded, no_such_entity
from strongroom.services.iam.common import check_path, group_out, page, user_out
from strongroom.services.iam.entities import GROUP, USER, EntityOperations

GROUPS_PER_USER = 10


class GroupOperations(EntityOperations):
    def create_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.entity_name(GROUP, params, GROUP.new_name_max)
        path = check_path(params.get("Path"))
        return {"Group": group_out(self.create_entity(ctx, GROUP, name, path))}

    def get_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.entity_name(GROUP, params)
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
        return self.list_entities(ctx, GROUP, params, group_out)

    def update_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.rename_entity(ctx, GROUP, params)

    def delete_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.entity_name(GROUP, params)
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
        group_name = self.entity_name(GROUP, params)
        user_name = self.entity_name(USER, params)
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
        group_name = self.entity_name(GROUP, params)
        user_name = self.entity_name(USER, params)
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
        name = self.entity_name(USER, params)
        user = self.target(ctx, "iam:ListGroupsForUser", "user", name)
        data = self.read()
        groups = [
            g for g in (data.get(ctx.account_id, "group", n) for n in sorted(user.groups)) if g
        ]
        chosen, extra = page(groups, params, lambda g: g.name.lower())
        return {"Groups": [group_out(g) for g in chosen], **extra}
