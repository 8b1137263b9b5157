"""Key lifecycle: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey,
ScheduleKeyDeletion, CancelKeyDeletion, UpdateKeyDescription, GetKeyLastUsage."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from strongroom.context import RequestContext
from strongroom.crypto.kms import generate_key_material
from strongroom.crypto.kms.errors import KmsCryptoError, as_service_error
from strongroom.crypto.kms.specs import validate_spec_usage
from strongroom.crypto.kms_ciphertext import new_material_id
from strongroom.errors import ServiceError
from strongroom.services.kms import errors
from strongroom.services.kms import records as rec
from strongroom.services.kms.common import KmsBase, check_tags, page_limit
from strongroom.services.kms.conditions import caller_keys, request_tag_keys
from strongroom.services.kms.policies import (
    SERVICE_TITLES,
    aws_managed_key_policy,
    check_lockout,
    default_key_policy,
    validate_policy,
)
from strongroom.services.kms.records import AliasRecord, KeyRecord, KeyState, Material
from strongroom.services.kms.repository import KeyEntry, KmsTxn
from strongroom.services.kms.resolve import ALIAS_NAME, is_key_id

MIN_WINDOW, MAX_WINDOW, DEFAULT_WINDOW = 7, 30, 30
_CUSTOM_STORE_ORIGINS = ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE")


def new_material(key_spec: str, created: str) -> Material:
    try:
        raw = generate_key_material(key_spec)
    except KmsCryptoError as exc:
        raise as_service_error(exc) from None
    return Material(id=new_material_id(), secret=Material.encode(raw), created=created)


class KeyOperations(KmsBase):
    def create_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        spec_param = params.get("KeySpec")
        cmk_spec = params.get("CustomerMasterKeySpec")
        if spec_param is not None and cmk_spec is not None:
            raise errors.validation(
                "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. "
                "CustomerMasterKeySpec parameter is deprecated. Use KeySpec only."
            )
        key_spec = str(spec_param or cmk_spec or "SYMMETRIC_DEFAULT")
        key_usage = str(params.get("KeyUsage") or "ENCRYPT_DECRYPT")
        origin = str(params.get("Origin") or "AWS_KMS")
        multi_region = bool(params.get("MultiRegion"))
        tags = check_tags(params.get("Tags"))
        bypass = bool(params.get("BypassPolicyLockoutSafetyCheck"))
        if params.get("CustomKeyStoreId") is not None or origin in _CUSTOM_STORE_ORIGINS:
            raise self._no_custom_key_store(params.get("CustomKeyStoreId"))
        try:
            validate_spec_usage(key_spec, key_usage)
        except KmsCryptoError as exc:
            raise as_service_error(exc) from None
        if origin == "EXTERNAL" and key_spec.startswith("ML_"):
            raise errors.unsupported(f"KeySpec {key_spec} does not support imported key material.")

        key_id = rec.new_key_id(multi_region)
        record = KeyRecord(
            account=ctx.account_id,
            region=ctx.region,
            key_id=key_id,
            created=rec.iso(ctx.now),
            key_spec=key_spec,
            key_usage=key_usage,
            origin=origin,
            description=str(params.get("Description") or ""),
            tags=tags,
            multi_region=multi_region,
            primary_region=ctx.region if multi_region else None,
        )
        conditions: dict[str, Any] = {
            **caller_keys(ctx),
            "kms:KeySpec": key_spec,
            "kms:KeyUsage": key_usage,
            "kms:KeyOrigin": origin,
            "kms:MultiRegion": multi_region,
            "kms:CustomerMasterKeySpec": key_spec,
            "kms:CustomerMasterKeyUsage": key_usage,
            "kms:BypassPolicyLockoutSafetyCheck": bypass,
        }
        if multi_region:
            conditions["kms:MultiRegionKeyType"] = "PRIMARY"
        if tags:
            conditions.update(request_tag_keys(tags))
        # CreateKey has no key yet: IAM policies alone decide (resource "*").
        ctx.authorize("kms:CreateKey", "*", conditions=conditions)
        if tags:
            ctx.authorize(
                "kms:TagResource",
                record.arn,
                resource_account=ctx.account_id,
                conditions=conditions,
            )

        policy = params.get("Policy")
        if policy is None:
            record.policy = default_key_policy(ctx.account_id)
        else:
            validate_policy(str(policy))
            if not bypass:
                check_lockout(ctx, record.arn, ctx.account_id, str(policy))
            record.policy = str(policy)

        if origin == "EXTERNAL":
            record.state = KeyState.PENDING_IMPORT.value
            record.expiration_model = None
        else:
            record.materials.append(new_material(key_spec, record.created))
        with self.repo.write() as txn:
            txn.put_key(record)
        return {"KeyMetadata": self.metadata(record)}

    @staticmethod
    def _no_custom_key_store(store_id: object) -> Exception:
        if store_id is not None:
            return ServiceError(
                "CustomKeyStoreNotFoundException",
                f"Custom key store {store_id} does not exist. Strongroom does not support "
                "custom key stores yet (docs/api-coverage.md).",
            )
        return errors.unsupported(
            "Strongroom does not support custom key stores (AWS_CLOUDHSM, "
            "EXTERNAL_KEY_STORE origins) yet."
        )

    def describe_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params.get("KeyId"))
        if (
            ref.alias is not None
            and ref.alias.startswith("alias/aws/")
            and ref.account == ctx.account_id
            and self.repo.alias_target(ref.account, ref.region, ref.alias) is None
        ):
            # DescribeKey on a predefined AWS alias creates its AWS managed key.
            self.aws_managed_key(ref.account, ref.region, ref.alias[len("alias/aws/") :])
        entry = self.entry_for(ref)
        self.authorize(
            ctx,
            entry,
            "DescribeKey",
            alias=ref.alias,
            grant_operation="DescribeKey",
            grant_tokens=params.get("GrantTokens"),
        )
        return {"KeyMetadata": self.metadata(entry.record)}

    def aws_managed_key(self, account: str, region: str, service_name: str) -> KeyRecord:
        """The AWS managed key ``alias/aws/<service_name>``, created on first use.

        What services call (``KmsService.aws_managed_key(account, region, "ssm")``)
        when a request names no key. The key has AWS's fixed policy (usable
        through that service by the account's principals), KeyManager AWS and
        yearly rotation, as AWS managed keys do.
        """
        alias = f"alias/aws/{service_name}"
        if not ALIAS_NAME.match(alias):
            raise errors.invalid_alias_name(f"Alias {alias} is not a valid alias name.")
        with self.repo.write() as txn:
            existing = txn.alias(account, region, alias)
            if existing is not None:
                found = txn.key(account, region, existing.target)
                if found is not None:
                    return found
            now = self.platform.clock()
            created = rec.iso(now)
            title = SERVICE_TITLES.get(service_name, service_name)
            record = KeyRecord(
                account=account,
                region=region,
                key_id=rec.new_key_id(),
                created=created,
                description=(
                    f"Default key that protects my {title} data when no other key is defined"
                ),
                policy=aws_managed_key_policy(account, region, service_name),
                manager="AWS",
                aliases=[alias],
                rotation_enabled=True,
                rotation_period_days=365,
                next_rotation=rec.iso(now + timedelta(days=365)),
            )
            record.materials.append(new_material(record.key_spec, created))
            txn.put_key(record)
            txn.put_due(rec.DUE_ROTATE, record.next_rotation or created, record)
            txn.put_alias(AliasRecord(account, region, alias, record.key_id, created, created))
        return record

    def list_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ctx.authorize("kms:ListKeys", "*", conditions=caller_keys(ctx))
        limit = page_limit(params)
        prefix = f"{rec.KEYS}{ctx.account_id}/{ctx.region}/"
        start_after = ""
        marker = params.get("Marker")
        if marker is not None:
            if not isinstance(marker, str) or not is_key_id(marker):
                raise errors.invalid_marker()
            start_after = prefix + marker
        rows = self.repo.scan_pairs(prefix, start_after, limit + 1)
        keys = [path[len(prefix) :] for path, _ in rows[:limit]]
        out: dict[str, Any] = {
            "Keys": [
                {"KeyId": k, "KeyArn": rec.key_arn(ctx.region, ctx.account_id, k)} for k in keys
            ],
            "Truncated": len(rows) > limit,
        }
        if out["Truncated"]:
            out["NextMarker"] = keys[-1]
        return out

    def _managed(self, ctx: RequestContext, params: dict[str, Any]) -> KeyEntry:
        """A key for a management operation: key id or ARN only, own account only."""
        entry, _ = self.lookup(ctx, params, allow_alias=False)
        self.require_same_account(ctx, entry)
        return entry

    def enable_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._managed(ctx, params)
        self.authorize(ctx, entry, "EnableKey")

        def change(record: KeyRecord, txn: KmsTxn) -> None:
            if record.state != KeyState.UNAVAILABLE.value:
                record.state = KeyState.ENABLED.value

        self.update_key(entry, "EnableKey", change)
        return {}

    def disable_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._managed(ctx, params)
        self.authorize(ctx, entry, "DisableKey")

        def change(record: KeyRecord, txn: KmsTxn) -> None:
            record.state = KeyState.DISABLED.value

        self.update_key(entry, "DisableKey", change)
        return {}

    def schedule_key_deletion(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._managed(ctx, params)
        window = params.get("PendingWindowInDays", DEFAULT_WINDOW)
        if not isinstance(window, int) or not MIN_WINDOW <= window <= MAX_WINDOW:
            raise errors.value_error(
                "pendingWindowInDays",
                window,
                f"Member must have value between {MIN_WINDOW} and {MAX_WINDOW}",
            )
        self.authorize(
            ctx,
            entry,
            "ScheduleKeyDeletion",
            extra={"kms:ScheduleKeyDeletionPendingWindowInDays": window},
        )
        when = rec.iso(ctx.now + timedelta(days=window))

        def change(record: KeyRecord, txn: KmsTxn) -> None:
            record.pending_window_days = window
            if record.is_primary and record.replica_regions:
                # A primary waits for its replicas; the deletion job starts its
                # window once they are gone (KMS: PendingReplicaDeletion).
                record.state = KeyState.PENDING_REPLICA_DELETION.value
                record.deletion_date = None
                return
            record.state = KeyState.PENDING_DELETION.value
            record.deletion_date = when
            txn.put_due(rec.DUE_DELETE, when, record)

        record = self.update_key(entry, "ScheduleKeyDeletion", change)
        out: dict[str, Any] = {
            "KeyId": record.arn,
            "KeyState": record.state,
            "PendingWindowInDays": window,
        }
        if record.deletion_date is not None:
            out["DeletionDate"] = rec.parse_iso(record.deletion_date)
        return out

    def cancel_key_deletion(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._managed(ctx, params)
        self.authorize(ctx, entry, "CancelKeyDeletion")

        def change(record: KeyRecord, txn: KmsTxn) -> None:
            txn.delete_due(rec.DUE_DELETE, record.deletion_date, record)
            # AWS: a key whose deletion is canceled is Disabled.
            record.state = (
                KeyState.PENDING_IMPORT.value
                if record.current_material() is None
                else KeyState.DISABLED.value
            )
            record.deletion_date = None
            record.pending_window_days = None

        if entry.record.state == KeyState.PENDING_REPLICA_DELETION.value:
            # Also cancellable, before the replicas are gone.
            record = self._cancel_replica_deletion(entry.record, change)
        else:
            record = self.update_key(entry, "CancelKeyDeletion", change)
        return {"KeyId": record.arn}

    def _cancel_replica_deletion(self, old: KeyRecord, change: Any) -> KeyRecord:
        with self.repo.write() as txn:
            record = txn.key(old.account, old.region, old.key_id)
            if record is None:
                raise errors.key_not_found(old.arn)
            change(record, txn)
            txn.put_key(record)
        return record

    def update_key_description(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._managed(ctx, params)
        description = params.get("Description")
        if not isinstance(description, str):
            raise errors.validation(
                "1 validation error detected: Value null at 'description' failed to satisfy "
                "constraint: Member must not be null"
            )
        self.authorize(ctx, entry, "UpdateKeyDescription")

        def change(record: KeyRecord, txn: KmsTxn) -> None:
            record.description = description

        self.update_key(entry, "UpdateKeyDescription", change)
        return {}

    def get_key_last_usage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._managed(ctx, params)
        self.authorize(ctx, entry, "GetKeyLastUsage")
        record = entry.record
        created = rec.parse_iso(record.created)
        out: dict[str, Any] = {
            "KeyId": record.arn,
            "KeyCreationDate": created,
            # Strongroom tracks every key from its creation.
            "TrackingStartDate": created,
        }
        use = self.usage.last_use(record.account, record.region, record.key_id)
        if use is not None:
            out["KeyLastUsage"] = {
                "Operation": use.operation,
                "Timestamp": rec.parse_iso(use.timestamp),
                "KmsRequestId": use.request_id,
            }
        return out
