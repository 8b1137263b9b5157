"""IAM roles: their trust policies, session limits, tags and boundaries."""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.iam import records as rec
from strongroom.iam.errors import delete_conflict, limit_exceeded, validation
from strongroom.iam.policy import PolicyKind
from strongroom.services.iam.common import (
    TRUST_POLICY_LIMIT,
    check_document,
    check_path,
    check_tags,
    policy_size,
    require,
    role_out,
    ts,
)
from strongroom.services.iam.entities import ROLE, EntityOperations, drop_boundary_use

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


class RoleOperations(EntityOperations):
    def create_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.entity_name(ROLE, params)
        path = check_path(params.get("Path"))
        trust = _trust(str(require(params, "AssumeRolePolicyDocument")))
        max_session = _max_session(params.get("MaxSessionDuration") or MIN_SESSION)
        description = _description(params.get("Description"))
        tags = check_tags(params.get("Tags"))
        boundary = params.get("PermissionsBoundary")
        role = self.create_entity(
            ctx,
            ROLE,
            name,
            path,
            tags=tags,
            boundary=boundary,
            trust=trust,
            description=description,
            max_session=max_session,
        )
        return {"Role": role_out(role, full=True)}

    def get_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.entity_name(ROLE, params)
        role = self.target(ctx, "iam:GetRole", "role", name)
        out = role_out(role, full=True)
        used = self.read().role_last_used(ctx.account_id, role.name)
        out["RoleLastUsed"] = (
            {"LastUsedDate": ts(used["date"]), "Region": used["region"]} if used else {}
        )
        return {"Role": out}

    def list_roles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.list_entities(ctx, ROLE, params, role_out)

    def update_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.entity_name(ROLE, params)
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
        name = self.entity_name(ROLE, params)
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
        name = self.entity_name(ROLE, params)
        trust = _trust(str(require(params, "PolicyDocument")))
        self.target(ctx, "iam:UpdateAssumeRolePolicy", "role", name)
        with self.write() as data:
            role = data.require(ctx.account_id, "role", name)
            role.trust = trust
            data.put(role)
        return {}

    def delete_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.entity_name(ROLE, params)
        self.target(ctx, "iam:DeleteRole", "role", name)
        with self.write() as data:
            role = data.require(ctx.account_id, "role", name)
            if role.inline or role.attached:
                raise delete_conflict("Cannot delete entity, must detach all policies first.")
            drop_boundary_use(data, role)
            data.txn.delete(rec.role_last_used_key(ctx.account_id, role.name))
            data.delete(role)
        return {}

    # -- tags and permissions boundary (entities.py, shared with users) --------

    def tag_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.tag_entity(ctx, ROLE, params)

    def untag_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.untag_entity(ctx, ROLE, params)

    def list_role_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.list_entity_tags(ctx, ROLE, params)

    def put_role_permissions_boundary(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self.put_boundary(ctx, ROLE, params)

    def delete_role_permissions_boundary(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self.delete_boundary(ctx, ROLE, params)
