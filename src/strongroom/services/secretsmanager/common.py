"""What every Secrets Manager operation module shares: finding a secret,
authorizing against it, changing it in a transaction, and its output shapes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from strongroom.context import RequestContext
from strongroom.services.base import Service
from strongroom.services.secretsmanager import errors
from strongroom.services.secretsmanager import records as rec
from strongroom.services.secretsmanager.records import SecretRecord
from strongroom.services.secretsmanager.repository import (
    SecretEntry,
    SecretsRepository,
    SecretsTxn,
)
from strongroom.services.secretsmanager.resolve import SecretRef, parse_secret_id

if TYPE_CHECKING:
    from strongroom.platform import Platform

MAX_TAGS = 50


class SmBase(Service):
    repo: SecretsRepository

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        monotonic = getattr(platform.clock, "monotonic", time.monotonic)
        self.repo = SecretsRepository(platform.store, monotonic=monotonic)
        # (account, region, uid, version) -> the day its access was last recorded.
        self._accessed: dict[tuple[str, str, str, str], str] = {}

    # -- finding and authorizing ------------------------------------------------

    def find(self, ref: SecretRef) -> SecretEntry | None:
        for name, suffix in ref.candidates:
            entry = self.repo.entry(ref.account, ref.region, name)
            if entry is not None and (suffix is None or entry.record.suffix == suffix):
                return entry
        return None

    def authorize(
        self,
        ctx: RequestContext,
        entry: SecretEntry,
        action: str,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        conditions = entry.conditions
        if extra:
            conditions = {**conditions, **extra}
        record = entry.record
        ctx.authorize(
            f"secretsmanager:{action}",
            entry.arn,
            resource_policy=record.policy,
            resource_account=record.account,
            conditions=conditions,
        )
        ctx.audit.setdefault("resources", []).append(entry.arn)
        if record.account != ctx.account_id:
            ctx.audit["resource_account"] = record.account

    def lookup(
        self,
        ctx: RequestContext,
        secret_id: object,
        action: str,
        extra: Mapping[str, Any] | None = None,
        *,
        allow_deleted: bool = False,
        allow_replica: bool = True,
    ) -> SecretEntry:
        """The secret a request names, authorized for ``action``.

        A missing secret is authorized against its partial ARN first, so that
        a caller without permission learns nothing about what exists.
        """
        ref = parse_secret_id(secret_id, ctx.account_id, ctx.region)
        entry = self.find(ref)
        if entry is None:
            ctx.authorize(
                f"secretsmanager:{action}",
                rec.partial_arn(ref.region, ref.account, ref.name),
                resource_account=ref.account,
                conditions=extra,
            )
            raise errors.not_found()
        self.authorize(ctx, entry, action, extra)
        if entry.record.deleted and not allow_deleted:
            raise errors.invalid_request(errors.MARKED_FOR_DELETION)
        if entry.record.is_replica and not allow_replica:
            raise errors.invalid_request(errors.REPLICA_READ_ONLY)
        return entry

    # -- changing ---------------------------------------------------------------

    def change(
        self,
        entry: SecretEntry,
        mutate: Callable[[SecretRecord, SecretsTxn], None],
        *,
        touch: bool = True,
        now: str | None = None,
    ) -> SecretRecord:
        """Read-modify-write the secret in one transaction.

        The record is read again inside the transaction: the cached entry the
        request was authorized against may be a moment old, and must not be
        written back over a concurrent change.
        """
        old = entry.record
        with self.repo.write() as txn:
            current = txn.get(old.account, old.region, old.name)
            if current is None or current.uid != old.uid:
                raise errors.not_found()
            previous = SecretRecord.loads(current.dumps())
            mutate(current, txn)
            if touch:
                current.last_changed = now or rec.iso(self.platform.clock())
            txn.put(current, previous)
        return current

    # -- hooks (replication.py implements them) ----------------------------------

    def after_change(
        self,
        ctx: RequestContext,
        record: SecretRecord,
        plain: Mapping[str, tuple[bytes, bool]] | None = None,
    ) -> None:
        """Called after every committed change of a secret; ``plain`` holds the
        values of versions the change created, when the caller had them."""

    def add_replicas(
        self,
        ctx: RequestContext,
        record: SecretRecord,
        regions: object,
        force: bool,
        plain: Mapping[str, tuple[bytes, bool]] | None = None,
    ) -> SecretRecord:
        """Create replicas of ``record`` in other regions; returns the updated record."""
        return record

    # -- output -----------------------------------------------------------------

    @staticmethod
    def rotation_fields(record: SecretRecord) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if record.rotation_enabled is not None:
            out["RotationEnabled"] = record.rotation_enabled
        if record.rotation_lambda_arn:
            out["RotationLambdaARN"] = record.rotation_lambda_arn
        if record.rotation_rules:
            out["RotationRules"] = dict(record.rotation_rules)
        if record.external_rotation_metadata:
            out["ExternalSecretRotationMetadata"] = list(record.external_rotation_metadata)
        if record.external_rotation_role_arn:
            out["ExternalSecretRotationRoleArn"] = record.external_rotation_role_arn
        if record.rotation_enabled:
            if record.last_rotated:
                out["LastRotatedDate"] = rec.parse_iso(record.last_rotated)
            if record.next_rotation:
                out["NextRotationDate"] = rec.parse_iso(record.next_rotation)
        return out

    @staticmethod
    def common_fields(record: SecretRecord) -> dict[str, Any]:
        """The members DescribeSecret and ListSecrets' entries share."""
        out: dict[str, Any] = {"ARN": record.arn, "Name": record.name}
        if record.secret_type:
            out["Type"] = record.secret_type
        if record.description is not None:
            out["Description"] = record.description
        if record.kms_key_id:
            out["KmsKeyId"] = record.kms_key_id
        out.update(SmBase.rotation_fields(record))
        out["LastChangedDate"] = rec.parse_iso(record.last_changed)
        if record.last_accessed:
            out["LastAccessedDate"] = rec.parse_iso(record.last_accessed)
        if record.deleted_at:
            out["DeletedDate"] = rec.parse_iso(record.deleted_at)
        if record.tags:
            out["Tags"] = [dict(t) for t in record.tags]
        out["CreatedDate"] = rec.parse_iso(record.created)
        out["PrimaryRegion"] = record.primary_region or record.region
        return out

    @staticmethod
    def stages_map(record: SecretRecord) -> dict[str, list[str]]:
        return {vid: list(v.stages) for vid, v in record.versions.items() if v.stages}


def check_tags(tags: object) -> list[dict[str, str]]:
    """A TagList, validated as Secrets Manager does."""
    if tags is None:
        return []
    if not isinstance(tags, list):
        raise errors.invalid_parameter("Tags must be a list of Key/Value pairs.")
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for tag in tags:
        key, value = tag.get("Key"), tag.get("Value")
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise errors.invalid_parameter("Each tag needs a Key and a Value.")
        if key.lower().startswith("aws:"):
            raise errors.invalid_parameter(
                "Invalid tag key. The 'aws:' prefix is reserved for AWS use."
            )
        if key in seen:
            raise errors.invalid_parameter("Duplicate tag keys in the request.")
        seen.add(key)
        out.append({"Key": key, "Value": value})
    return out


def merge_tags(existing: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    merged = {t["Key"]: t["Value"] for t in existing}
    for tag in new:
        merged[tag["Key"]] = tag["Value"]
    if len(merged) > MAX_TAGS:
        raise errors.invalid_parameter(f"A secret can have at most {MAX_TAGS} tags.")
    return [{"Key": k, "Value": v} for k, v in merged.items()]


def request_tag_conditions(tags: list[dict[str, str]]) -> dict[str, Any]:
    keys: dict[str, Any] = {f"aws:RequestTag/{t['Key']}": t["Value"] for t in tags}
    keys["aws:TagKeys"] = [t["Key"] for t in tags]
    return keys
