"""Managed policies: CreatePolicy … DeletePolicy, versions, and policy tags."""

from __future__ import annotations

import re
from typing import Any

from strongroom.context import RequestContext
from strongroom.iam.errors import (
    already_exists,
    delete_conflict,
    limit_exceeded,
    no_such_entity,
    validation,
)
from strongroom.iam.ids import POLICY_PREFIX, iso, new_id
from strongroom.iam.policy import PolicyKind
from strongroom.iam.records import ManagedPolicy
from strongroom.services.iam.common import (
    MANAGED_POLICY_LIMIT,
    POLICY_NAME_MAX,
    IamBase,
    check_document,
    check_name,
    check_path,
    check_tags,
    merge_tags,
    page,
    policy_out,
    policy_size,
    remove_tags,
    require,
    tag_conditions,
    version_out,
)

MAX_VERSIONS = 5
VERSION_RE = re.compile(r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?")

Params = dict[str, Any]
Result = dict[str, Any]


def _document(text: str) -> str:
    document = check_document(text, PolicyKind.IDENTITY)
    if policy_size(document) > MANAGED_POLICY_LIMIT:
        raise limit_exceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_LIMIT}")
    return document


def _version_id(params: Params) -> str:
    version = str(require(params, "VersionId"))
    if not VERSION_RE.fullmatch(version):
        raise validation(
            f"1 validation error detected: Value '{version}' at 'versionId' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?"
        )
    return version


def version_order(version: str) -> int:
    return int(version[1:].split(".", 1)[0])


class ManagedPolicyOperations(IamBase):
    def create_policy(self, ctx: RequestContext, params: Params) -> Result:
        name = check_name(require(params, "PolicyName"), "policyName", POLICY_NAME_MAX)
        path = check_path(params.get("Path"), policy=True)
        document = _document(str(require(params, "PolicyDocument")))
        tags = check_tags(params.get("Tags"))
        description = params.get("Description")
        if description is not None and len(str(description)) > 1000:
            raise validation("Description must be at most 1000 characters")
        arn = f"arn:aws:iam::{ctx.account_id}:policy{path}{name}"
        conditions = tag_conditions(tags) if tags else None
        ctx.authorize("iam:CreatePolicy", arn, conditions=conditions)
        if tags:
            ctx.authorize("iam:TagPolicy", arn, conditions=conditions)
        now = iso(self.now(ctx))
        with self.write() as data:
            if data.local_policy(ctx.account_id, name) is not None:
                raise already_exists(
                    f"A policy called {name} already exists. Duplicate names are not allowed."
                )
            policy = ManagedPolicy(
                account=ctx.account_id,
                name=name,
                path=path,
                id=new_id(POLICY_PREFIX),
                created=now,
                updated=now,
                description=None if description is None else str(description),
                versions={"v1": {"document": document, "created": now}},
                tags=tags,
            )
            data.put_policy(policy)
        return {"Policy": policy_out(policy, (0, 0), full=True)}

    def get_policy(self, ctx: RequestContext, params: Params) -> Result:
        policy = self.policy_target(ctx, "iam:GetPolicy", str(require(params, "PolicyArn")))
        counts = self.read().usage_counts(ctx.account_id, policy)
        return {"Policy": policy_out(policy, counts, full=True)}

    def delete_policy(self, ctx: RequestContext, params: Params) -> Result:
        arn = str(require(params, "PolicyArn"))
        self.policy_target(ctx, "iam:DeletePolicy", arn, modify=True)
        with self.write() as data:
            policy = data.require_policy(arn)
            if data.policy_uses(ctx.account_id, policy):
                raise delete_conflict("Cannot delete a policy attached to entities.")
            if len(policy.versions) > 1:
                raise delete_conflict(
                    "This policy has more than one version. Before you delete a policy, you "
                    "must delete the policy's versions. The default version is deleted with "
                    "the policy."
                )
            data.delete_policy(policy)
        return {}

    def list_policies(self, ctx: RequestContext, params: Params) -> Result:
        ctx.authorize("iam:ListPolicies", "*")
        scope = params.get("Scope") or "All"
        if scope not in ("All", "AWS", "Local"):
            raise validation(f"Value '{scope}' at 'scope' must be one of All, AWS, Local")
        prefix = params.get("PathPrefix") or "/"
        usage_filter = params.get("PolicyUsageFilter")
        only_attached = bool(params.get("OnlyAttached"))
        data = self.read()
        rows: list[tuple[ManagedPolicy, tuple[int, int]]] = []
        for policy in data.all_policies(ctx.account_id, scope):
            if not policy.path.startswith(prefix):
                continue
            counts = data.usage_counts(ctx.account_id, policy)
            if only_attached and counts == (0, 0):
                continue
            if usage_filter == "PermissionsPolicy" and only_attached and not counts[0]:
                continue
            if usage_filter == "PermissionsBoundary" and only_attached and not counts[1]:
                continue
            rows.append((policy, counts))
        chosen, extra = page(rows, params, lambda row: row[0].arn)
        return {"Policies": [policy_out(p, c) for p, c in chosen], **extra}

    # -- versions ------------------------------------------------------------

    def create_policy_version(self, ctx: RequestContext, params: Params) -> Result:
        arn = str(require(params, "PolicyArn"))
        document = _document(str(require(params, "PolicyDocument")))
        self.policy_target(ctx, "iam:CreatePolicyVersion", arn, modify=True)
        now = iso(self.now(ctx))
        with self.write() as data:
            policy = data.require_policy(arn)
            if len(policy.versions) >= MAX_VERSIONS:
                raise limit_exceeded(
                    f"A managed policy can have up to {MAX_VERSIONS} versions. Before you "
                    "create a new version, you must delete an existing version."
                )
            version = f"v{policy.next_version}"
            policy.next_version += 1
            policy.versions[version] = {"document": document, "created": now}
            if params.get("SetAsDefault"):
                policy.default_version = version
            policy.updated = now
            data.put_policy(policy)
        return {"PolicyVersion": version_out(policy, version, document=False)}

    def get_policy_version(self, ctx: RequestContext, params: Params) -> Result:
        arn = str(require(params, "PolicyArn"))
        version = _version_id(params)
        policy = self.policy_target(ctx, "iam:GetPolicyVersion", arn)
        if version not in policy.versions:
            raise no_such_entity(f"Policy {arn} version {version} does not exist.")
        return {"PolicyVersion": version_out(policy, version)}

    def list_policy_versions(self, ctx: RequestContext, params: Params) -> Result:
        arn = str(require(params, "PolicyArn"))
        policy = self.policy_target(ctx, "iam:ListPolicyVersions", arn)
        versions = sorted(policy.versions, key=version_order, reverse=True)
        chosen, extra = page(versions, params, lambda v: v)
        return {"Versions": [version_out(policy, v, document=False) for v in chosen], **extra}

    def delete_policy_version(self, ctx: RequestContext, params: Params) -> Result:
        arn = str(require(params, "PolicyArn"))
        version = _version_id(params)
        self.policy_target(ctx, "iam:DeletePolicyVersion", arn, modify=True)
        with self.write() as data:
            policy = data.require_policy(arn)
            if version not in policy.versions:
                raise no_such_entity(f"Policy {arn} version {version} does not exist.")
            if version == policy.default_version:
                raise delete_conflict("Cannot delete the default version of a policy.")
            del policy.versions[version]
            data.put_policy(policy)
        return {}

    def set_default_policy_version(self, ctx: RequestContext, params: Params) -> Result:
        arn = str(require(params, "PolicyArn"))
        version = _version_id(params)
        self.policy_target(ctx, "iam:SetDefaultPolicyVersion", arn, modify=True)
        with self.write() as data:
            policy = data.require_policy(arn)
            if version not in policy.versions:
                raise no_such_entity(f"Policy {arn} version {version} does not exist.")
            policy.default_version = version
            policy.updated = iso(self.now(ctx))
            data.put_policy(policy)
        return {}

    # -- tags ---------------------------------------------------------------

    def tag_policy(self, ctx: RequestContext, params: Params) -> Result:
        arn = str(require(params, "PolicyArn"))
        tags = check_tags(require(params, "Tags"))
        self.policy_target(ctx, "iam:TagPolicy", arn, modify=True, conditions=tag_conditions(tags))
        with self.write() as data:
            policy = data.require_policy(arn)
            policy.tags = merge_tags(policy.tags, tags)
            data.put_policy(policy)
        return {}

    def untag_policy(self, ctx: RequestContext, params: Params) -> Result:
        arn = str(require(params, "PolicyArn"))
        keys = [str(k) for k in require(params, "TagKeys")]
        self.policy_target(
            ctx, "iam:UntagPolicy", arn, modify=True, conditions={"aws:TagKeys": keys}
        )
        with self.write() as data:
            policy = data.require_policy(arn)
            policy.tags = remove_tags(policy.tags, keys)
            data.put_policy(policy)
        return {}

    def list_policy_tags(self, ctx: RequestContext, params: Params) -> Result:
        policy = self.policy_target(ctx, "iam:ListPolicyTags", str(require(params, "PolicyArn")))
        tags, extra = page(policy.tags, params, lambda t: t["Key"])
        return {"Tags": tags, **extra}
