"""CreateAlias, UpdateAlias, DeleteAlias, ListAliases.

An alias is authorized twice, as in AWS ("Controlling access to aliases"):
on the alias ARN by IAM policies alone, and on the key by its key policy.
Names under ``alias/aws/`` belong to AWS managed keys and cannot be created,
re-pointed or deleted by callers.
"""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.services.kms import errors
from strongroom.services.kms import records as rec
from strongroom.services.kms.common import KmsBase, paged
from strongroom.services.kms.conditions import caller_keys
from strongroom.services.kms.records import AliasRecord, KeyRecord
from strongroom.services.kms.repository import KeyEntry, KmsTxn
from strongroom.services.kms.resolve import ALIAS_NAME
from strongroom.services.kms.states import check_state

RESERVED = "alias/aws/"
# Aliases per key (AWS "Aliases per KMS key" quota).
MAX_ALIASES_PER_KEY = 50


def _alias_name(params: dict[str, Any]) -> str:
    name = params.get("AliasName")
    if not isinstance(name, str) or not name:
        raise errors.validation(
            "1 validation error detected: Value null at 'aliasName' failed to satisfy "
            "constraint: Member must not be null"
        )
    if not name.startswith("alias/"):
        raise errors.validation('Alias must start with the prefix "alias/".')
    if not ALIAS_NAME.match(name) or len(name) > 256 or name == "alias/":
        raise errors.invalid_alias_name(f"Alias {name} is not a valid alias name.")
    return name


def _reserved(name: str) -> ServiceError:
    return ServiceError(
        "NotAuthorizedException",
        f"Alias names beginning with {RESERVED} are reserved for AWS managed keys: {name}",
    )


class AliasOperations(KmsBase):
    def _alias_target(self, ctx: RequestContext, params: dict[str, Any]) -> KeyEntry:
        """TargetKeyId: a key id or key ARN of this account (aliases cannot point to aliases)."""
        value = params.get("TargetKeyId")
        if not isinstance(value, str) or not value:
            raise errors.validation(
                "1 validation error detected: Value null at 'targetKeyId' failed to satisfy "
                "constraint: Member must not be null"
            )
        entry, _ = self.lookup(ctx, {"KeyId": value}, allow_alias=False)
        self.require_same_account(ctx, entry)
        if entry.record.manager == "AWS":
            raise errors.validation("An alias cannot be associated with an AWS managed key.")
        return entry

    def _authorize_alias(self, ctx: RequestContext, action: str, name: str) -> None:
        """The alias half: IAM policies on the alias ARN (no key policy is involved)."""
        ctx.authorize(
            f"kms:{action}",
            rec.alias_arn(ctx.region, ctx.account_id, name),
            resource_account=ctx.account_id,
            conditions=caller_keys(ctx),
        )

    def create_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _alias_name(params)
        if name.startswith(RESERVED):
            raise _reserved(name)
        entry = self._alias_target(ctx, params)
        self._authorize_alias(ctx, "CreateAlias", name)
        self.authorize(ctx, entry, "CreateAlias")
        now = rec.iso(ctx.now)
        with self.repo.write() as txn:
            if txn.alias(ctx.account_id, ctx.region, name) is not None:
                raise errors.already_exists(
                    f"An alias with the name {rec.alias_arn(ctx.region, ctx.account_id, name)} "
                    "already exists"
                )
            record = self._key_in(txn, entry, "CreateAlias")
            if len(record.aliases) >= MAX_ALIASES_PER_KEY:
                raise errors.limit_exceeded(
                    f"A KMS key can have at most {MAX_ALIASES_PER_KEY} aliases."
                )
            record.aliases.append(name)
            txn.put_key(record)
            txn.put_alias(AliasRecord(ctx.account_id, ctx.region, name, record.key_id, now, now))
        return {}

    @staticmethod
    def _key_in(txn: KmsTxn, entry: KeyEntry, operation: str) -> KeyRecord:
        record = txn.key(entry.record.account, entry.record.region, entry.record.key_id)
        if record is None:
            raise errors.key_not_found(entry.arn)
        check_state(record, operation)
        return record

    def update_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _alias_name(params)
        if name.startswith(RESERVED):
            raise _reserved(name)
        new = self._alias_target(ctx, params)
        current = self.repo.read().alias(ctx.account_id, ctx.region, name)
        if current is None:
            raise errors.alias_not_found(rec.alias_arn(ctx.region, ctx.account_id, name))
        old = self.repo.entry(ctx.account_id, ctx.region, current.target)
        self._authorize_alias(ctx, "UpdateAlias", name)
        if old is not None:
            self.authorize(ctx, old, "UpdateAlias")
        self.authorize(ctx, new, "UpdateAlias")
        if old is not None and (
            old.record.key_usage != new.record.key_usage
            or (old.record.key_spec == "SYMMETRIC_DEFAULT")
            != (new.record.key_spec == "SYMMETRIC_DEFAULT")
        ):
            raise errors.validation(
                "The new KMS key must have the same key type and key usage as the current one."
            )
        with self.repo.write() as txn:
            alias = txn.alias(ctx.account_id, ctx.region, name)
            if alias is None:
                raise errors.alias_not_found(rec.alias_arn(ctx.region, ctx.account_id, name))
            target = self._key_in(txn, new, "UpdateAlias")
            if alias.target != target.key_id:
                previous = txn.key(ctx.account_id, ctx.region, alias.target)
                if previous is not None and name in previous.aliases:
                    previous.aliases.remove(name)
                    txn.put_key(previous)
                target.aliases.append(name)
                txn.put_key(target)
            alias.target = target.key_id
            alias.updated = rec.iso(ctx.now)
            txn.put_alias(alias)
        return {}

    def delete_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _alias_name(params)
        if name.startswith(RESERVED):
            raise _reserved(name)
        alias = self.repo.read().alias(ctx.account_id, ctx.region, name)
        if alias is None:
            raise errors.alias_not_found(rec.alias_arn(ctx.region, ctx.account_id, name))
        self._authorize_alias(ctx, "DeleteAlias", name)
        entry = self.repo.entry(ctx.account_id, ctx.region, alias.target)
        if entry is not None:
            self.authorize(ctx, entry, "DeleteAlias")
        with self.repo.write() as txn:
            txn.delete_alias(ctx.account_id, ctx.region, name)
            record = txn.key(ctx.account_id, ctx.region, alias.target)
            if record is not None and name in record.aliases:
                record.aliases.remove(name)
                txn.put_key(record)
        return {}

    def list_aliases(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key_filter: str | None = None
        if params.get("KeyId") is not None:
            entry, _ = self.lookup(ctx, params, allow_alias=False)
            self.require_same_account(ctx, entry)
            key_filter = entry.record.key_id
        ctx.authorize("kms:ListAliases", "*", conditions=caller_keys(ctx))
        prefix = f"{rec.ALIASES}{ctx.account_id}/{ctx.region}/"
        aliases = [AliasRecord.loads(raw) for raw in self.repo.scan(prefix)]
        listed = [
            {
                "AliasName": a.name,
                "AliasArn": a.arn,
                "TargetKeyId": a.target,
                "CreationDate": rec.parse_iso(a.created),
                "LastUpdatedDate": rec.parse_iso(a.updated),
            }
            for a in aliases
            if key_filter is None or a.target == key_filter
        ]
        return paged(listed, params, "Aliases")
