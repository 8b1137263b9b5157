"""GetKeyPolicy, PutKeyPolicy, ListKeyPolicies (a key has one policy, "default")."""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.services.kms import errors
from strongroom.services.kms.common import KmsBase, page_limit
from strongroom.services.kms.policies import (
    DEFAULT_POLICY_NAME,
    check_lockout,
    check_policy_name,
    validate_policy,
)
from strongroom.services.kms.records import KeyRecord
from strongroom.services.kms.repository import KmsTxn


class KeyPolicyOperations(KmsBase):
    def get_key_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry, _ = self.lookup(ctx, params, allow_alias=False)
        self.require_same_account(ctx, entry)
        check_policy_name(params.get("PolicyName"))
        self.authorize(ctx, entry, "GetKeyPolicy")
        return {"Policy": entry.record.policy, "PolicyName": DEFAULT_POLICY_NAME}

    def put_key_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry, _ = self.lookup(ctx, params, allow_alias=False)
        self.require_same_account(ctx, entry)
        check_policy_name(params.get("PolicyName"))
        policy = params.get("Policy")
        if not isinstance(policy, str) or not policy:
            raise errors.validation(
                "1 validation error detected: Value null at 'policy' failed to satisfy "
                "constraint: Member must not be null"
            )
        bypass = bool(params.get("BypassPolicyLockoutSafetyCheck"))
        self.authorize(
            ctx,
            entry,
            "PutKeyPolicy",
            extra={"kms:BypassPolicyLockoutSafetyCheck": bypass},
        )
        validate_policy(policy)
        if not bypass:
            check_lockout(ctx, entry.arn, entry.record.account, policy)

        def change(record: KeyRecord, txn: KmsTxn) -> None:
            record.policy = policy

        self.update_key(entry, "PutKeyPolicy", change)
        return {}

    def list_key_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry, _ = self.lookup(ctx, params, allow_alias=False)
        self.require_same_account(ctx, entry)
        page_limit(params)
        self.authorize(ctx, entry, "ListKeyPolicies")
        return {"PolicyNames": [DEFAULT_POLICY_NAME], "Truncated": False}
