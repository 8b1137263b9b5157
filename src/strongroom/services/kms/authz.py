"""Authorization of a request on a KMS key: key policy, IAM policies, grants.

KMS Developer Guide, "Troubleshooting key access" (the evaluation flowchart):

* the key policy must allow the request, directly or by delegating to the
  account (``arn:aws:iam::ACCOUNT:root``), in which case IAM policies decide;
  across accounts both the key policy and the caller's IAM policies must
  allow. The platform engine does all of this with
  ``require_resource_policy=True``.
* a grant can allow what the policies do not, for its grantee and its
  operations, within its constraints; it cannot override an explicit Deny in
  a key policy or IAM policy.

So the hot path is one ``ctx.authorize``; grants are looked at only when it
denies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.services.kms.conditions import caller_keys
from strongroom.services.kms.grant_rules import (
    constraints_allow,
    grantee_matches,
    is_account_grantee,
    parse_token,
)
from strongroom.services.kms.records import GrantRecord
from strongroom.services.kms.repository import KeyEntry, KmsRepository

_DENIED = frozenset({"AccessDeniedException", "AccessDenied"})


class KeyAuthorizer:
    def __init__(self, repo: KmsRepository) -> None:
        self.repo = repo

    def conditions(
        self,
        ctx: RequestContext,
        entry: KeyEntry,
        extra: Mapping[str, Any] | None = None,
        alias: str | None = None,
    ) -> dict[str, Any]:
        keys = dict(entry.conditions)
        keys.update(caller_keys(ctx))
        if alias is not None:
            keys["kms:RequestAlias"] = alias
        if extra:
            keys.update(extra)
        return keys

    def authorize(
        self,
        ctx: RequestContext,
        entry: KeyEntry,
        operation: str,
        *,
        extra: Mapping[str, Any] | None = None,
        alias: str | None = None,
        grant_operation: str | None = None,
        context: Mapping[str, str] | None = None,
        grant_tokens: Sequence[str] | None = None,
    ) -> GrantRecord | None:
        """Allow ``kms:<operation>`` on the key or raise AccessDeniedException.

        ``grant_operation`` is the grant operation that would allow the
        request (ReEncrypt's source side is ``ReEncryptFrom``); None means the
        operation cannot be granted. ``context`` is the request's encryption
        context, for grant constraints. Returns the grant that allowed the
        request, or None when the policies did.
        """
        record = entry.record
        conditions = self.conditions(ctx, entry, extra, alias)
        action = f"kms:{operation}"
        try:
            ctx.authorize(
                action,
                entry.arn,
                resource_policy=record.policy,
                resource_account=record.account,
                conditions=conditions,
                require_resource_policy=True,
            )
            return None
        except ServiceError as denied:
            if denied.code not in _DENIED or grant_operation is None:
                raise
            grant = self._allowing_grant(
                ctx, entry, grant_operation, action, conditions, context, grant_tokens
            )
            if grant is None or self._explicitly_denied(ctx, entry, action, conditions):
                raise
            return grant

    def _allowing_grant(
        self,
        ctx: RequestContext,
        entry: KeyEntry,
        grant_operation: str,
        action: str,
        conditions: Mapping[str, Any],
        context: Mapping[str, str] | None,
        grant_tokens: Sequence[str] | None,
    ) -> GrantRecord | None:
        record = entry.record
        candidates = list(self.repo.grants(record.account, record.region, record.key_id))
        for token in grant_tokens or ():
            account, region, key_id, grant_id = parse_token(token)
            if (account, region, key_id) == (record.account, record.region, record.key_id):
                fresh = self.repo.read().grant(account, region, key_id, grant_id)
                if fresh is not None:
                    candidates.append(fresh)
        principal = ctx.principal
        for grant in candidates:
            if grant_operation not in grant.operations:
                continue
            if not constraints_allow(grant, grant_operation, context):
                continue
            if grantee_matches(grant.grantee, principal):
                return grant
            if is_account_grantee(grant.grantee, principal) and self._identity_allows(
                ctx, entry, action, conditions
            ):
                return grant
        return None

    @staticmethod
    def _identity_allows(
        ctx: RequestContext, entry: KeyEntry, action: str, conditions: Mapping[str, Any]
    ) -> bool:
        """A grant to an account reaches its principals through their IAM policies."""
        try:
            ctx.authorize(action, entry.arn, resource_account=ctx.account_id, conditions=conditions)
        except ServiceError as denied:
            if denied.code in _DENIED:
                return False
            raise
        return True

    @staticmethod
    def _explicitly_denied(
        ctx: RequestContext, entry: KeyEntry, action: str, conditions: Mapping[str, Any]
    ) -> bool:
        """Grants cannot override an explicit Deny; ask the engine which deny it was."""
        decide = getattr(ctx.platform.authorizer, "decide", None)
        if decide is None:
            return False
        decision = decide(
            ctx,
            action,
            entry.arn,
            resource_policy=entry.record.policy,
            resource_account=entry.record.account,
            conditions=conditions,
            require_resource_policy=True,
        )
        return bool(decision.kind == "explicit_deny")
