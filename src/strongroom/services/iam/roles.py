"""IAM roles: their trust policies, session limits, tags and boundaries."""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.iam import records as rec
from strongroom.iam.errors import already_exists, delete_conflict, limit_exceeded, validation
from strongroom.iam.ids import ROLE_PREFIX, iso, new_id
from strongroom.iam.policy import PolicyKind
from strongroom.iam.records import Entity
from strongroom.services.iam.common import (
    NAME_LIMITS,
    TRUST_POLICY_LIMIT,
    IamBase,
    check_document,
    check_name,
    check_path,
    check_tags,
    max_items,
    merge_tags,
    page,
    paged,
    policy_size,
    remove_tags,
    require,
    role_out,
    tag_conditions,
    ts,
)

MIN_SESSION, MAX_SESSION = 3600, 43200


def _max_session(value: Any) -> int:
    seconds = int(value)
    if not MIN_SESSION <= seconds <= MAX_SESSION:
        raise validation(
            f"1 validation error detected: Value '{seconds}' at 'maxSessionDuration' failed to "
            f"satisfy constraint: Member must have value between {MIN_SESSION} and {MAX_SESSION}"
        )
    return seconds


def _description(value: Any) -> str | None:
    if value is None:
        return None
    if len(str(value)) > 1000:
        raise validation("Description must be at most 1000 characters")
    return str(value)


def _trust(text: str) -> str:
    document = check_document(text, PolicyKind.TRUST)
    if policy_size(document) > TRUST_POLICY_LIMIT:
        raise limit_exceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_LIMIT}")
    return document


class RoleOperations(IamBase):
    def create_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "RoleName"), "roleName", NAME_LIMITS["role"])
        path = check_path(params.get("Path"))
        trust = _trust(str(require(params, "AssumeRolePolicyDocument")))
        max_session = _max_session(params.get("MaxSessionDuration") or MIN_SESSION)
        description = _description(params.get("Description"))
        tags = check_tags(params.get("Tags"))
        boundary = params.get("PermissionsBoundary")
        conditions = tag_conditions(tags) if tags else {}
        if boundary:
            conditions["iam:PermissionsBoundary"] = boundary
        arn = f"arn:aws:iam::{ctx.account_id}:role{path}{name}"
        ctx.authorize("iam:CreateRole", arn, conditions=conditions or None)
        if tags:
            ctx.authorize("iam:TagRole", arn, conditions=conditions)
        with self.write() as data:
            if data.get(ctx.account_id, "role", name) is not None:
                raise already_exists(f"Role with name {name} already exists.")
            role = Entity(
                kind="role",
                account=ctx.account_id,
                name=name,
                path=path,
                id=new_id(ROLE_PREFIX),
                created=iso(self.now(ctx)),
                tags=tags,
                trust=trust,
                description=description,
                max_session=max_session,
            )
            if boundary:
                policy = data.require_policy(str(boundary))
                role.boundary = policy.arn
                data.index_use(role, policy, rec.BOUNDARY)
            data.put(role)
        return {"Role": role_out(role, full=True)}

    def get_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "RoleName"), "roleName", NAME_LIMITS["role"])
        role = self.target(ctx, "iam:GetRole", "role", name)
        out = role_out(role, full=True)
        used = self.read().role_last_used(ctx.account_id, role.name)
        out["RoleLastUsed"] = (
            {"LastUsedDate": ts(used["date"]), "Region": used["region"]} if used else {}
        )
        return {"Role": out}

    def list_roles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ctx.authorize("iam:ListRoles", "*")
        roles, marker = self.read().entities(
            ctx.account_id,
            "role",
            path_prefix=params.get("PathPrefix") or "/",
            marker=params.get("Marker") or "",
            limit=max_items(params),
        )
        return {"Roles": [role_out(r) for r in roles], **paged(marker)}

    def update_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "RoleName"), "roleName", NAME_LIMITS["role"])
        max_session = params.get("MaxSessionDuration")
        seconds = _max_session(max_session) if max_session is not None else None
        description = _description(params.get("Description"))
        self.target(ctx, "iam:UpdateRole", "role", name)
        with self.write() as data:
            role = data.require(ctx.account_id, "role", name)
            if seconds is not None:
                role.max_session = seconds
            if description is not None:
                role.description = description
            data.put(role)
        return {}

    def update_role_description(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = check_name(require(params, "RoleName"), "roleName", NAME_LIMITS["role"])
        description = _description(require(params, "Description"))
        self.target(ctx, "iam:UpdateRoleDescription", "role", name)
        with self.write() as data:
            role = data.require(ctx.account_id, "role", name)
            role.description = description
            data.put(role)
        return {"Role": role_out(role, full=True)}

    def update_assume_role_policy(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = check_name(require(params, "RoleName"), "roleName", NAME_LIMITS["role"])
        trust = _trust(str(require(params, "PolicyDocument")))
        self.target(ctx, "iam:UpdateAssumeRolePolicy", "role", name)
        with self.write() as data:
            role = data.require(ctx.account_id, "role", name)
            role.trust = trust
            data.put(role)
        return {}

    def delete_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "RoleName"), "roleName", NAME_LIMITS["role"])
        self.target(ctx, "iam:DeleteRole", "role", name)
        with self.write() as data:
            role = data.require(ctx.account_id, "role", name)
            if role.inline or role.attached:
                raise delete_conflict("Cannot delete entity, must detach all policies first.")
            if role.boundary:
                boundary = data.policy(role.boundary)
                if boundary is not None:
                    data.unindex_use(role, boundary, rec.BOUNDARY)
            data.txn.delete(rec.role_last_used_key(ctx.account_id, role.name))
            data.delete(role)
        return {}

    # -- tags ---------------------------------------------------------------

    def tag_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "RoleName"), "roleName", NAME_LIMITS["role"])
        tags = check_tags(require(params, "Tags"))
        self.target(ctx, "iam:TagRole", "role", name, conditions=tag_conditions(tags))
        with self.write() as data:
            role = data.require(ctx.account_id, "role", name)
            role.tags = merge_tags(role.tags, tags)
            data.put(role)
        return {}

    def untag_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "RoleName"), "roleName", NAME_LIMITS["role"])
        keys = [str(k) for k in require(params, "TagKeys")]
        self.target(ctx, "iam:UntagRole", "role", name, conditions={"aws:TagKeys": keys})
        with self.write() as data:
            role = data.require(ctx.account_id, "role", name)
            role.tags = remove_tags(role.tags, keys)
            data.put(role)
        return {}

    def list_role_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require(params, "RoleName"), "roleName", NAME_LIMITS["role"])
        role = self.target(ctx, "iam:ListRoleTags", "role", name)
        tags, extra = page(role.tags, params, lambda t: t["Key"])
        return {"Tags": tags, **extra}

    # -- permissions boundary -------------------------------------------------

    def put_role_permissions_boundary(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = check_name(require(params, "RoleName"), "roleName", NAME_LIMITS["role"])
        arn = str(require(params, "PermissionsBoundary"))
        self.target(
            ctx,
            "iam:PutRolePermissionsBoundary",
            "role",
            name,
            conditions={"iam:PermissionsBoundary": arn},
        )
        self.set_boundary(ctx, "role", name, arn)
        return {}

    def delete_role_permissions_boundary(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = check_name(require(params, "RoleName"), "roleName", NAME_LIMITS["role"])
        self.target(ctx, "iam:DeleteRolePermissionsBoundary", "role", name)
        self.set_boundary(ctx, "role", name, None)
        return {}
