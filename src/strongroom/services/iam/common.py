"""What every IAM operation shares: validation, pagination, output shapes,
and the "authorize against the real ARN, then say NoSuchEntity" pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, unquote

from strongroom.context import RequestContext
from strongroom.iam.errors import (
    access_denied,
    invalid_input,
    limit_exceeded,
    malformed_policy,
    no_such_entity,
    validation,
)
from strongroom.iam.identities import IdentityStore
from strongroom.iam.ids import parse_iso
from strongroom.iam.policy import MalformedPolicy, PolicyKind, parse_policy
from strongroom.iam.principal import PrincipalType
from strongroom.iam.records import Entity, ManagedPolicy
from strongroom.iam.repository import IamData, parse_policy_arn
from strongroom.services.base import Service

T = TypeVar("T")
Params = dict[str, Any]
Result = dict[str, Any]

NAME_RE = re.compile(r"[\w+=,.@-]+", re.ASCII)
PATH_RE = re.compile(r"/|/[\x21-\x7e]+/")
POLICY_PATH_RE = re.compile(r"((/[A-Za-z0-9.,+@=_-]+)*)/")
TAG_RE = re.compile(r"[\w\s.:/=+\-@]*")

POLICY_NAME_MAX = 128  # user, group and role name limits: entities.Kind
# Aggregate inline policy size per entity, whitespace excluded (IAM quotas).
INLINE_LIMITS = {"user": 2048, "group": 5120, "role": 10240}
MANAGED_POLICY_LIMIT = 6144
TRUST_POLICY_LIMIT = 2048
ATTACHED_LIMIT = 10  # managed policies per user, group or role
MAX_TAGS = 50
DEFAULT_MAX_ITEMS = 100


def require(params: dict[str, Any], member: str) -> Any:
    value = params.get(member)
    if value is None:
        raise validation(
            f"1 validation error detected: Value null at '{member[0].lower()}{member[1:]}' "
            "failed to satisfy constraint: Member must not be null"
        )
    return value


def check_name(value: str, member: str, max_len: int = 128) -> str:
    if not NAME_RE.fullmatch(value) or len(value) > max_len:
        raise validation(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ "
            f"and have length less than or equal to {max_len}"
        )
    return value


def check_path(value: str | None, *, policy: bool = False) -> str:
    if value is None:
        return "/"
    pattern = POLICY_PATH_RE if policy else PATH_RE
    if len(value) > 512 or not pattern.fullmatch(value):
        raise validation(
            f"1 validation error detected: Value '{value}' at 'path' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            + (
                "((/[A-Za-z0-9\\.,\\+@=_-]+)*)/"
                if policy
                else "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
            )
        )
    return value


def check_document(text: str, kind: PolicyKind) -> str:
    """Validate a policy document with the engine; return it as stored.

    Clients may send documents URL-encoded (IAM accepts both); the stored
    text is always the decoded JSON.
    """
    if text.lstrip().startswith("%7B"):
        text = unquote(text)
    try:
        parse_policy(text, kind=kind)
    except MalformedPolicy as exc:
        raise malformed_policy(str(exc)) from exc
    return text


def policy_size(text: str) -> int:
    """IAM counts policy size without whitespace."""
    return len("".join(text.split()))


def encode_document(text: str) -> str:
    """IAM returns documents URL-encoded; botocore (``json_decode_policies``) decodes them."""
    return quote(text, safe="")


def max_items(params: dict[str, Any]) -> int:
    value = params.get("MaxItems")
    if value is None:
        return DEFAULT_MAX_ITEMS
    if not 1 <= int(value) <= 1000:
        raise validation("MaxItems must be between 1 and 1000")
    return int(value)


def page(items: Sequence[T], params: dict[str, Any], key: Any) -> tuple[list[T], dict[str, Any]]:
    """Slice an ordered list by Marker/MaxItems; ``key(item)`` is the marker value."""
    limit = max_items(params)
    marker = params.get("Marker")
    start = 0
    if marker:
        start = next((i + 1 for i, item in enumerate(items) if key(item) == marker), len(items))
    chosen = list(items[start : start + limit])
    truncated = start + limit < len(items)
    extra: dict[str, Any] = {"IsTruncated": truncated}
    if truncated:
        extra["Marker"] = key(chosen[-1])
    return chosen, extra


def paged(marker: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"IsTruncated": marker is not None}
    if marker is not None:
        out["Marker"] = marker
    return out


# -- tags ------------------------------------------------------------------


def check_tags(tags: Iterable[dict[str, str]] | None) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for tag in tags or ():
        key, value = str(tag.get("Key", "")), str(tag.get("Value", ""))
        if not 1 <= len(key) <= 128 or not TAG_RE.fullmatch(key) or len(value) > 256:
            raise validation(f"1 validation error detected: Value '{key}' at 'tags' is not valid")
        if not TAG_RE.fullmatch(value):
            raise validation(f"1 validation error detected: tag value for '{key}' is not valid")
        if key.lower().startswith("aws:"):
            raise invalid_input("Tag keys starting with 'aws:' are reserved for AWS use.")
        if key.lower() in seen:
            raise invalid_input(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        seen.add(key.lower())
        out.append({"Key": key, "Value": value})
    return out


def merge_tags(existing: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    """IAM tag keys are unique case-insensitively; a new value replaces the old pair."""
    replaced = {t["Key"].lower() for t in new}
    merged = [t for t in existing if t["Key"].lower() not in replaced] + new
    if len(merged) > MAX_TAGS:
        raise limit_exceeded(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
    return merged


def remove_tags(existing: list[dict[str, str]], keys: Iterable[str]) -> list[dict[str, str]]:
    dropped = {k.lower() for k in keys}
    return [t for t in existing if t["Key"].lower() not in dropped]


def tag_conditions(tags: list[dict[str, str]]) -> dict[str, Any]:
    conditions: dict[str, Any] = {f"aws:RequestTag/{t['Key']}": t["Value"] for t in tags}
    conditions["aws:TagKeys"] = [t["Key"] for t in tags]
    return conditions


# -- output shapes -----------------------------------------------------------


def ts(text: str) -> datetime:
    return parse_iso(text)


def boundary_out(arn: str) -> dict[str, str]:
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}


def _identity_out(entity: Entity, title: str) -> dict[str, Any]:
    return {
        "Path": entity.path,
        f"{title}Name": entity.name,
        f"{title}Id": entity.id,
        "Arn": entity.arn,
        "CreateDate": ts(entity.created),
    }


def _full_out(out: dict[str, Any], entity: Entity) -> dict[str, Any]:
    """What Get/Create add and list operations omit: the boundary and the tags."""
    if entity.boundary:
        out["PermissionsBoundary"] = boundary_out(entity.boundary)
    if entity.tags:
        out["Tags"] = list(entity.tags)
    return out


def user_out(user: Entity, *, full: bool = False) -> dict[str, Any]:
    out = _identity_out(user, "User")
    return _full_out(out, user) if full else out


def group_out(group: Entity) -> dict[str, Any]:
    return _identity_out(group, "Group")


def role_out(role: Entity, *, full: bool = False) -> dict[str, Any]:
    out = _identity_out(role, "Role")
    out["AssumeRolePolicyDocument"] = encode_document(role.trust or "")
    out["MaxSessionDuration"] = role.max_session
    if role.description is not None:
        out["Description"] = role.description
    return _full_out(out, role) if full else out


def policy_out(
    policy: ManagedPolicy, counts: tuple[int, int], *, full: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyId": policy.id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": policy.default_version,
        "AttachmentCount": counts[0],
        "PermissionsBoundaryUsageCount": counts[1],
        "IsAttachable": True,
        "CreateDate": ts(policy.created),
        "UpdateDate": ts(policy.updated),
    }
    if full:
        if policy.description:
            out["Description"] = policy.description
        if policy.tags:
            out["Tags"] = list(policy.tags)
    return out


def version_out(policy: ManagedPolicy, version_id: str, *, document: bool = True) -> dict[str, Any]:
    version = policy.versions[version_id]
    out: dict[str, Any] = {
        "VersionId": version_id,
        "IsDefaultVersion": version_id == policy.default_version,
        "CreateDate": ts(version["created"]),
    }
    if document:
        out["Document"] = encode_document(version["document"])
    return out


# -- the service base ----------------------------------------------------------


class IamBase(Service):
    model_name: ClassVar[str] = "iam"

    @property
    def ids(self) -> IdentityStore:
        return self.platform.identities

    def target(
        self,
        ctx: RequestContext,
        action: str,
        kind: str,
        name: str,
        *,
        conditions: dict[str, Any] | None = None,
    ) -> Entity:
        """Authorize ``action`` on the named entity's real ARN, then require it.

        Authorizing first means a caller without permission learns nothing
        about whether the entity exists (AccessDenied either way).
        """
        entity = self.ids.read().get(ctx.account_id, kind, name)
        arn = entity.arn if entity else f"arn:aws:iam::{ctx.account_id}:{kind}/{name}"
        extra: dict[str, Any] = {}
        if entity is not None:
            for tag in entity.tags:
                extra[f"aws:ResourceTag/{tag['Key']}"] = tag["Value"]
                extra[f"iam:ResourceTag/{tag['Key']}"] = tag["Value"]
            if entity.boundary and "iam:PermissionsBoundary" not in (conditions or {}):
                extra["iam:PermissionsBoundary"] = entity.boundary
        extra.update(conditions or {})
        ctx.authorize(action, arn, conditions=extra or None)
        if entity is None:
            raise no_such_entity(f"The {kind} with name {name} cannot be found.")
        return entity

    def policy_target(
        self,
        ctx: RequestContext,
        action: str,
        arn: str,
        *,
        modify: bool = False,
        conditions: dict[str, Any] | None = None,
    ) -> ManagedPolicy:
        """Authorize ``action`` on a policy ARN, then require the policy.

        Customer managed policies of other accounts are invisible (NoSuchEntity);
        AWS managed ones are readable and attachable by all, changeable by none.
        """
        account, _, _ = parse_policy_arn(arn)
        policy = self.read().policy(arn)
        extra: dict[str, Any] = {}
        if policy is not None:
            extra.update({f"aws:ResourceTag/{t['Key']}": t["Value"] for t in policy.tags})
        extra.update(conditions or {})
        ctx.authorize(action, arn, conditions=extra or None)
        if policy is None or (not policy.is_aws_managed and account != ctx.account_id):
            raise no_such_entity(f"Policy {arn} was not found.")
        if modify and policy.is_aws_managed:
            raise access_denied(f"Policy {arn} is an AWS managed policy and cannot be modified.")
        return policy

    def caller_user_name(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """``UserName`` if given, else the calling IAM user (None for root).

        Role sessions must name a user: IAM answers ValidationError.
        """
        name = params.get("UserName")
        if name is not None:
            return check_name(str(name), "userName", 128)
        principal = ctx.principal
        if principal.type is PrincipalType.USER and principal.user_name is not None:
            return principal.user_name
        if principal.type is PrincipalType.ROOT:
            return None
        raise validation("Must specify userName when calling with non-User credentials")

    def write(self) -> AbstractContextManager[IamData]:
        return self.ids.write()

    def read(self) -> IamData:
        return self.ids.read()

    @staticmethod
    def now(ctx: RequestContext) -> datetime:
        return ctx.platform.clock()
