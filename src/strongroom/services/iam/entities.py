"""What users, groups and roles share, written once over the kind of entity.

IAM's operations on the three identities differ in their names
(``iam:TagUser``/``iam:TagRole``, ``UserName``/``RoleName``), in the kind
named in their messages ("User with name x already exists.") and in the name
lengths the botocore model allows; the behaviour is the same. :class:`Kind`
holds those differences, :class:`EntityOperations` the behaviour, and
users.py, groups.py, roles.py, inline.py and attach.py bind it per kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strongroom.context import RequestContext
from strongroom.iam import records as rec
from strongroom.iam.errors import already_exists
from strongroom.iam.ids import GROUP_PREFIX, ROLE_PREFIX, USER_PREFIX, iso, new_id
from strongroom.iam.records import Entity
from strongroom.iam.repository import IamData
from strongroom.services.iam.common import (
    IamBase,
    Params,
    Result,
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
)


@dataclass(frozen=True)
class Kind:
    """One kind of IAM identity, as its operations spell it."""

    kind: str  # the record kind and the word in messages: "user"
    title: str  # in action and member names: "User" (iam:TagUser, UserName)
    id_prefix: str  # of its unique ids: "AIDA"
    # Name lengths as the botocore model has them: where it says userNameType
    # / groupNameType / roleNameType (create, rename to, boundaries) and where
    # it says existingUserNameType and the like (most other operations).
    new_name_max: int
    name_max: int

    @property
    def member(self) -> str:
        return f"{self.title}Name"

    @property
    def field(self) -> str:
        """The member as validation messages name it: ``userName``."""
        return f"{self.kind}Name"


USER = Kind("user", "User", USER_PREFIX, new_name_max=64, name_max=128)
GROUP = Kind("group", "Group", GROUP_PREFIX, new_name_max=128, name_max=128)
ROLE = Kind("role", "Role", ROLE_PREFIX, new_name_max=64, name_max=64)
KINDS = {k.kind: k for k in (USER, GROUP, ROLE)}


def drop_boundary_use(data: IamData, entity: Entity) -> None:
    """Forget that ``entity`` uses its boundary policy (the policy may be gone)."""
    if entity.boundary is not None:
        policy = data.policy(entity.boundary)
        if policy is not None:
            data.unindex_use(entity, policy, rec.BOUNDARY)


class EntityOperations(IamBase):
    def entity_name(self, kind: Kind, params: Params, max_len: int | None = None) -> str:
        """The entity's name member, checked (by default against ``kind.name_max``)."""
        limit = kind.name_max if max_len is None else max_len
        return check_name(require(params, kind.member), kind.field, limit)

    def holder_name(self, kind: Kind, params: Params) -> str:
        """The entity's name in inline and attached policy operations,
        checked as the model does: 128 characters for users and groups
        (existing users may have longer names than new ones), 64 for roles."""
        return self.entity_name(kind, params)

    # -- create, list, rename ---------------------------------------------------

    def create_entity(
        self,
        ctx: RequestContext,
        kind: Kind,
        name: str,
        path: str,
        *,
        tags: list[dict[str, str]] | None = None,
        boundary: str | None = None,
        **fields: Any,
    ) -> Entity:
        """Authorize and store a new identity; ``fields`` are the kind's own.

        Tags need ``iam:Tag<Kind>`` too, and both checks see the request's tags
        and boundary as condition keys, as in AWS.
        """
        conditions = tag_conditions(tags) if tags else {}
        if boundary:
            conditions["iam:PermissionsBoundary"] = boundary
        arn = f"arn:aws:iam::{ctx.account_id}:{kind.kind}{path}{name}"
        ctx.authorize(f"iam:Create{kind.title}", arn, conditions=conditions or None)
        if tags:
            ctx.authorize(f"iam:Tag{kind.title}", arn, conditions=conditions)
        with self.write() as data:
            if data.get(ctx.account_id, kind.kind, name) is not None:
                raise already_exists(f"{kind.title} with name {name} already exists.")
            entity = Entity(
                kind=kind.kind,
                account=ctx.account_id,
                name=name,
                path=path,
                id=new_id(kind.id_prefix),
                created=iso(self.now(ctx)),
                tags=tags or [],
                **fields,
            )
            if boundary:
                policy = data.require_policy(str(boundary))
                entity.boundary = policy.arn
                data.index_use(entity, policy, rec.BOUNDARY)
            data.put(entity)
        return entity

    def list_entities(
        self, ctx: RequestContext, kind: Kind, params: Params, out: Callable[[Entity], Result]
    ) -> Result:
        ctx.authorize(f"iam:List{kind.title}s", "*")
        found, marker = self.read().entities(
            ctx.account_id,
            kind.kind,
            path_prefix=params.get("PathPrefix") or "/",
            marker=params.get("Marker") or "",
            limit=max_items(params),
        )
        return {f"{kind.title}s": [out(e) for e in found], **paged(marker)}

    def rename_entity(self, ctx: RequestContext, kind: Kind, params: Params) -> Result:
        """Update<Kind>: a new name and/or path."""
        name = self.entity_name(kind, params)
        new_name = params.get(f"New{kind.member}")
        new_path = params.get("NewPath")
        if new_name is not None:
            check_name(new_name, f"new{kind.member}", kind.new_name_max)
        if new_path is not None:
            check_path(new_path)
        action = f"iam:Update{kind.title}"
        current = self.target(ctx, action, kind.kind, name)
        if new_name is not None:
            # Renaming needs permission on both the old and the new identity.
            path = new_path or current.path
            ctx.authorize(action, f"arn:aws:iam::{ctx.account_id}:{kind.kind}{path}{new_name}")
        with self.write() as data:
            entity = data.require(ctx.account_id, kind.kind, name)
            target_name = new_name if new_name is not None else entity.name
            if (
                target_name.lower() != entity.name.lower()
                and data.get(ctx.account_id, kind.kind, target_name) is not None
            ):
                raise already_exists(f"{kind.title} with name {target_name} already exists.")
            data.rename(entity, target_name, new_path or entity.path)
        return {}

    # -- tags (users and roles) ---------------------------------------------------

    def tag_entity(self, ctx: RequestContext, kind: Kind, params: Params) -> Result:
        name = self.entity_name(kind, params)
        tags = check_tags(require(params, "Tags"))
        self._retag(ctx, kind, name, "Tag", tag_conditions(tags), lambda old: merge_tags(old, tags))
        return {}

    def untag_entity(self, ctx: RequestContext, kind: Kind, params: Params) -> Result:
        name = self.entity_name(kind, params)
        keys = [str(k) for k in require(params, "TagKeys")]
        conditions = {"aws:TagKeys": keys}
        self._retag(ctx, kind, name, "Untag", conditions, lambda old: remove_tags(old, keys))
        return {}

    def _retag(
        self,
        ctx: RequestContext,
        kind: Kind,
        name: str,
        verb: str,
        conditions: dict[str, Any],
        change: Callable[[list[dict[str, str]]], list[dict[str, str]]],
    ) -> None:
        self.target(ctx, f"iam:{verb}{kind.title}", kind.kind, name, conditions=conditions)
        with self.write() as data:
            entity = data.require(ctx.account_id, kind.kind, name)
            entity.tags = change(entity.tags)
            data.put(entity)

    def list_entity_tags(self, ctx: RequestContext, kind: Kind, params: Params) -> Result:
        name = self.entity_name(kind, params)
        entity = self.target(ctx, f"iam:List{kind.title}Tags", kind.kind, name)
        tags, extra = page(entity.tags, params, lambda t: t["Key"])
        return {"Tags": tags, **extra}

    # -- permissions boundaries (users and roles) -----------------------------------

    def put_boundary(self, ctx: RequestContext, kind: Kind, params: Params) -> Result:
        name = self.entity_name(kind, params, kind.new_name_max)
        arn = str(require(params, "PermissionsBoundary"))
        action = f"iam:Put{kind.title}PermissionsBoundary"
        self.target(ctx, action, kind.kind, name, conditions={"iam:PermissionsBoundary": arn})
        self._set_boundary(ctx, kind, name, arn)
        return {}

    def delete_boundary(self, ctx: RequestContext, kind: Kind, params: Params) -> Result:
        name = self.entity_name(kind, params, kind.new_name_max)
        self.target(ctx, f"iam:Delete{kind.title}PermissionsBoundary", kind.kind, name)
        self._set_boundary(ctx, kind, name, None)
        return {}

    def _set_boundary(self, ctx: RequestContext, kind: Kind, name: str, arn: str | None) -> None:
        """Put (``arn``) or remove (None) the entity's permissions boundary."""
        with self.write() as data:
            entity = data.require(ctx.account_id, kind.kind, name)
            drop_boundary_use(data, entity)
            entity.boundary = None
            if arn is not None:
                policy = data.require_policy(arn)
                entity.boundary = policy.arn
                data.index_use(entity, policy, rec.BOUNDARY)
            data.put(entity)
