"""CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.

What a grant allows is decided in authz.py (grant_rules.py holds the rules);
this module manages the grant records.
"""

from __future__ import annotations

import os
import re
from typing import Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.services.kms import errors
from strongroom.services.kms import records as rec
from strongroom.services.kms.common import KmsBase, check_dry_run, paged
from strongroom.services.kms.conditions import caller_keys, context_keys
from strongroom.services.kms.grant_rules import (
    at_least_as_strict,
    check_constraints_for,
    grantee_matches,
    make_token,
    parse_token,
)
from strongroom.services.kms.records import GrantRecord
from strongroom.services.kms.repository import KeyEntry
from strongroom.services.kms.states import check_state

_GRANT_ID = re.compile(r"^[0-9a-f]{64}$")
# AWS quota: grants for a KMS key.
MAX_GRANTS_PER_KEY = 50_000
_MANAGEMENT = ("CreateGrant", "RetireGrant", "DescribeKey")
# Grant operations each kind of key supports (CreateGrant answers
# ValidationException for others).
_BY_USAGE: dict[str, frozenset[str]] = {
    "ENCRYPT_DECRYPT": frozenset(
        {
            "Decrypt",
            "Encrypt",
            "ReEncryptFrom",
            "ReEncryptTo",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
        }
    ),
    "SIGN_VERIFY": frozenset({"Sign", "Verify", "GetPublicKey"}),
    "GENERATE_VERIFY_MAC": frozenset({"GenerateMac", "VerifyMac"}),
    "KEY_AGREEMENT": frozenset({"DeriveSharedSecret", "GetPublicKey"}),
    "ENCAPSULATE_DECAPSULATE": frozenset({"Encapsulate", "Decapsulate", "GetPublicKey"}),
}
_SYMMETRIC_ONLY = frozenset(
    {
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
    }
)


def _check_operations(entry: KeyEntry, operations: object) -> list[str]:
    if not isinstance(operations, list) or not operations:
        raise errors.validation(
            "1 validation error detected: Value null at 'operations' failed to satisfy "
            "constraint: Member must not be null"
        )
    record = entry.record
    supported = set(_BY_USAGE.get(record.key_usage, frozenset())) | set(_MANAGEMENT)
    if record.key_spec == "SYMMETRIC_DEFAULT":
        supported.discard("GetPublicKey")
    else:
        supported -= _SYMMETRIC_ONLY
        if record.key_usage == "ENCRYPT_DECRYPT":
            supported.add("GetPublicKey")
    bad = [op for op in operations if op not in supported]
    if bad:
        raise errors.validation(
            f"Grant operations {', '.join(map(str, bad))} are not supported for a "
            f"{record.key_spec} key with key usage {record.key_usage}."
        )
    return [str(op) for op in dict.fromkeys(operations)]


def _constraints(value: object) -> dict[str, dict[str, str]]:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise errors.validation("Constraints must be a structure")
    out = {k: dict(v) for k, v in value.items() if v is not None and k != "SourceArn"}
    if "EncryptionContextSubset" in out and "EncryptionContextEquals" in out:
        raise errors.validation(
            "A grant constraint can be EncryptionContextSubset or EncryptionContextEquals, "
            "not both."
        )
    return out


def grant_out(grant: GrantRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "KeyId": rec.key_arn(grant.region, grant.account, grant.key_id),
        "GrantId": grant.grant_id,
        "CreationDate": rec.parse_iso(grant.created),
        "GranteePrincipal": grant.grantee,
        "IssuingAccount": f"arn:aws:iam::{grant.issuing_account}:root",
        "Operations": list(grant.operations),
    }
    if grant.name:
        out["Name"] = grant.name
    if grant.retiring:
        out["RetiringPrincipal"] = grant.retiring
    if grant.constraints:
        out["Constraints"] = dict(grant.constraints)
    return out


class GrantOperations(KmsBase):
    def create_grant(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry, _ = self.lookup(ctx, params, allow_alias=False)
        if params.get("GranteeServicePrincipal") or params.get("RetiringServicePrincipal"):
            raise errors.unsupported("Service principals as grantees are not supported.")
        grantee = params.get("GranteePrincipal")
        if not isinstance(grantee, str) or not grantee:
            raise errors.validation(
                "1 validation error detected: Value null at 'granteePrincipal' failed to "
                "satisfy constraint: Member must not be null"
            )
        operations = _check_operations(entry, params.get("Operations"))
        constraints = _constraints(params.get("Constraints"))
        check_constraints_for(operations, constraints)
        retiring = params.get("RetiringPrincipal")
        constraint_context: dict[str, str] = {}
        for value in constraints.values():
            constraint_context.update(value)
        extra: dict[str, Any] = {
            "kms:GrantOperations": operations,
            "kms:GranteePrincipal": grantee,
            "kms:GrantIsForAWSResource": bool(ctx.audit.get("invokedBy")),
            **context_keys(constraint_context),
        }
        if retiring:
            extra["kms:RetiringPrincipal"] = retiring
        if constraints:
            extra["kms:GrantConstraintType"] = list(constraints)
        via_grant = self.authorize(
            ctx,
            entry,
            "CreateGrant",
            extra=extra,
            grant_operation="CreateGrant",
            grant_tokens=params.get("GrantTokens"),
        )
        # A grant that allows CreateGrant passes on at most what it has.
        if via_grant is not None and (
            not set(operations) <= set(via_grant.operations)
            or not at_least_as_strict(constraints, via_grant.constraints)
        ):
            raise ServiceError(
                "AccessDeniedException",
                f"User: {ctx.principal.arn} is not authorized to perform: "
                f"kms:CreateGrant on resource: {entry.arn} because the grant that allows "
                "it does not allow these operations or constraints",
            )
        check_state(entry.record, "CreateGrant")
        check_dry_run(params)
        name = params.get("Name")
        record = entry.record
        with self.repo.write() as txn:
            existing = txn.grants(record.account, record.region, record.key_id)
            if name:
                for grant in existing:
                    if (grant.name, grant.grantee, grant.retiring, grant.operations) == (
                        name,
                        grantee,
                        retiring,
                        operations,
                    ) and grant.constraints == constraints:
                        # CreateGrant with the same Name and parameters is idempotent.
                        return {"GrantToken": make_token(grant), "GrantId": grant.grant_id}
            if len(existing) >= MAX_GRANTS_PER_KEY:
                raise errors.limit_exceeded(
                    f"A KMS key can have at most {MAX_GRANTS_PER_KEY} grants."
                )
            grant = GrantRecord(
                account=record.account,
                region=record.region,
                key_id=record.key_id,
                grant_id=os.urandom(32).hex(),
                created=rec.iso(ctx.now),
                issuing_account=ctx.account_id,
                grantee=grantee,
                operations=operations,
                name=str(name) if name else None,
                retiring=str(retiring) if retiring else None,
                constraints=constraints,
            )
            txn.put_grant(grant)
        return {"GrantToken": make_token(grant), "GrantId": grant.grant_id}

    def list_grants(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry, _ = self.lookup(ctx, params, allow_alias=False)
        self.authorize(
            ctx,
            entry,
            "ListGrants",
            extra={"kms:GrantIsForAWSResource": bool(ctx.audit.get("invokedBy"))},
        )
        record = entry.record
        grants = self.repo.read().grants(record.account, record.region, record.key_id)
        grant_id = params.get("GrantId")
        grantee = params.get("GranteePrincipal")
        listed = [
            grant_out(g)
            for g in sorted(grants, key=lambda g: (g.created, g.grant_id))
            if (grant_id is None or g.grant_id == grant_id)
            and (grantee is None or g.grantee == grantee)
        ]
        return paged(listed, params, "Grants")

    def list_retirable_grants(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        retiring = params.get("RetiringPrincipal")
        if not isinstance(retiring, str) or not retiring:
            raise errors.validation(
                "1 validation error detected: Value null at 'retiringPrincipal' failed to "
                "satisfy constraint: Member must not be null"
            )
        # Authorized on the retiring principal, by the caller's IAM policies only.
        ctx.authorize(
            "kms:ListRetirableGrants",
            retiring,
            resource_account=ctx.account_id,
            conditions=caller_keys(ctx),
        )
        found = [GrantRecord.loads(raw) for _, raw in self.repo.store.iter_scan(rec.GRANTS)]
        listed = [
            grant_out(g)
            for g in sorted(found, key=lambda g: (g.created, g.grant_id))
            if g.region == ctx.region and g.retiring == retiring
        ]
        return paged(listed, params, "Grants")

    def _find_grant(self, ctx: RequestContext, params: dict[str, Any]) -> GrantRecord:
        token = params.get("GrantToken")
        if token:
            account, region, key_id, grant_id = parse_token(str(token))
            if region != ctx.region:
                raise errors.invalid_grant_token()
        else:
            if params.get("KeyId") is None or params.get("GrantId") is None:
                raise errors.validation("Specify a GrantToken, or both KeyId and GrantId.")
            ref = self.ref(ctx, params.get("KeyId"), allow_alias=False)
            assert ref.key_id is not None
            account, region, key_id = ref.account, ref.region, ref.key_id
            grant_id = str(params["GrantId"])
        if not _GRANT_ID.match(grant_id):
            raise errors.invalid_grant_id()
        grant = self.repo.read().grant(account, region, key_id, grant_id)
        if grant is None:
            if self.repo.entry(account, region, key_id) is None:
                raise errors.key_not_found(rec.key_arn(region, account, key_id))
            raise errors.not_found(f"Grant {grant_id} does not exist.")
        return grant

    def retire_grant(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        grant = self._find_grant(ctx, params)
        principal = ctx.principal
        allowed = (
            (grant.retiring is not None and grantee_matches(grant.retiring, principal))
            or ("RetireGrant" in grant.operations and grantee_matches(grant.grantee, principal))
            or (principal.is_root and principal.account_id == grant.account)
        )
        if not allowed:
            # Permission to retire is in the grant; policies cannot give it.
            raise ServiceError(
                "AccessDeniedException",
                f"User: {principal.arn} is not authorized to perform: kms:RetireGrant on "
                f"resource: {rec.key_arn(grant.region, grant.account, grant.key_id)} because "
                "the grant names it neither retiring principal nor grantee with RetireGrant",
            )
        check_dry_run(params)
        with self.repo.write() as txn:
            txn.delete_grant(grant)
        return {}

    def revoke_grant(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry, _ = self.lookup(ctx, params, allow_alias=False)
        grant_id = params.get("GrantId")
        if not isinstance(grant_id, str) or not grant_id:
            raise errors.validation(
                "1 validation error detected: Value null at 'grantId' failed to satisfy "
                "constraint: Member must not be null"
            )
        self.authorize(
            ctx,
            entry,
            "RevokeGrant",
            extra={"kms:GrantIsForAWSResource": bool(ctx.audit.get("invokedBy"))},
        )
        check_dry_run(params)
        if not _GRANT_ID.match(grant_id):
            raise errors.invalid_grant_id()
        record = entry.record
        with self.repo.write() as txn:
            grant = txn.grant(record.account, record.region, record.key_id, grant_id)
            if grant is None:
                raise errors.not_found(f"Grant {grant_id} does not exist.")
            txn.delete_grant(grant)
        return {}
