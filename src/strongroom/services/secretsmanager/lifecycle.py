"""DescribeSecret, DeleteSecret / RestoreSecret and the purge job, tags,
GetRandomPassword."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from strongroom.context import RequestContext
from strongroom.services.secretsmanager import errors, events, passwords
from strongroom.services.secretsmanager import records as rec
from strongroom.services.secretsmanager.common import (
    SmBase,
    check_tags,
    merge_tags,
    request_tag_conditions,
)
from strongroom.services.secretsmanager.records import SecretRecord
from strongroom.services.secretsmanager.repository import SecretsTxn

MIN_RECOVERY_DAYS = 7
MAX_RECOVERY_DAYS = 30
DEFAULT_RECOVERY_DAYS = 30


class LifecycleOperations(SmBase):
    def describe_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self.lookup(ctx, params.get("SecretId"), "DescribeSecret", allow_deleted=True)
        record = entry.record
        out = self.common_fields(record)
        out["VersionIdsToStages"] = self.stages_map(record)
        if record.replicas:
            out["ReplicationStatus"] = [dict(r) for r in record.replicas]
        if record.cross_account_primary is not None:
            out["CrossAccountPrimary"] = dict(record.cross_account_primary)
        if record.cross_account_replicas:
            out["CrossAccountReplicas"] = [dict(r) for r in record.cross_account_replicas]
        return out

    def delete_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        window = params.get("RecoveryWindowInDays")
        force = bool(params.get("ForceDeleteWithoutRecovery"))
        if force and window is not None:
            raise errors.invalid_parameter(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
            )
        if window is not None and (
            not isinstance(window, int) or not MIN_RECOVERY_DAYS <= window <= MAX_RECOVERY_DAYS
        ):
            raise errors.invalid_parameter(
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
            )
        days = DEFAULT_RECOVERY_DAYS if window is None else window
        conditions = {
            "secretsmanager:RecoveryWindowInDays": days,
            "secretsmanager:ForceDeleteWithoutRecovery": force,
        }
        entry = self.lookup(
            ctx,
            params.get("SecretId"),
            "DeleteSecret",
            conditions,
            allow_deleted=True,
            allow_replica=False,
        )
        record = entry.record
        if record.deleted and not force:
            raise errors.invalid_request(errors.ALREADY_DELETED)
        if record.replicas:
            regions = ", ".join(r["Region"] for r in record.replicas)
            raise errors.invalid_request(
                f"You can't delete secret {record.name} while it has replicas ({regions}). "
                "Remove them first with RemoveRegionsFromReplication."
            )
        if any(r.get("ReplicationStatus") != "Detached" for r in record.cross_account_replicas):
            raise errors.invalid_request(
                f"You can't delete secret {record.name} while it has associated cross-account "
                "replicas. Call DisassociateCrossAccountReplica first."
            )
        if force:
            with self.repo.write() as txn:
                current = txn.get(record.account, record.region, record.name)
                if current is not None and current.uid == record.uid:
                    txn.delete(current)
            events.publish(
                self.platform, events.END_DELETE, record.account, record.region, record.arn
            )
            return {"ARN": record.arn, "Name": record.name, "DeletionDate": ctx.now}
        purge = ctx.now + timedelta(days=days)

        def mutate(current: SecretRecord, txn: SecretsTxn) -> None:
            current.deleted_at = rec.iso(ctx.now)
            current.purge_at = rec.iso(purge)

        self.change(entry, mutate)
        events.publish(
            self.platform,
            events.START_DELETE,
            record.account,
            record.region,
            record.arn,
            {"DeletionDate": rec.iso(purge)},
        )
        return {"ARN": record.arn, "Name": record.name, "DeletionDate": purge}

    def restore_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self.lookup(
            ctx, params.get("SecretId"), "RestoreSecret", allow_deleted=True, allow_replica=False
        )
        record = entry.record
        if record.deleted:

            def mutate(current: SecretRecord, txn: SecretsTxn) -> None:
                current.deleted_at = None
                current.purge_at = None

            self.change(entry, mutate)
            events.publish(
                self.platform, events.CANCEL_DELETE, record.account, record.region, record.arn
            )
        return {"ARN": record.arn, "Name": record.name}

    def purge_due(self, now: datetime) -> int:
        """The purge job: really delete secrets whose recovery window has passed."""
        purged = 0
        for account, region, name in self.repo.due(rec.DUE_PURGE, rec.due_stamp(now)):
            with self.repo.write() as txn:
                record = txn.get(account, region, name)
                if (
                    record is None
                    or record.purge_at is None
                    or rec.parse_iso(record.purge_at) > now
                ):
                    continue
                txn.delete(record)
            purged += 1
            events.publish(self.platform, events.END_DELETE, account, region, record.arn)
        return purged

    # -- tags -------------------------------------------------------------------

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = check_tags(params.get("Tags"))
        if not tags:
            raise errors.invalid_parameter("You must specify at least one tag.")
        entry = self.lookup(
            ctx,
            params.get("SecretId"),
            "TagResource",
            request_tag_conditions(tags),
            allow_replica=False,
        )

        def mutate(record: SecretRecord, txn: SecretsTxn) -> None:
            record.tags = merge_tags(record.tags, tags)

        self.after_change(ctx, self.change(entry, mutate))
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        keys = params.get("TagKeys")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise errors.invalid_parameter("TagKeys must be a list of tag keys.")
        entry = self.lookup(
            ctx,
            params.get("SecretId"),
            "UntagResource",
            {"aws:TagKeys": list(keys)},
            allow_replica=False,
        )

        def mutate(record: SecretRecord, txn: SecretsTxn) -> None:
            record.tags = [t for t in record.tags if t["Key"] not in keys]

        self.after_change(ctx, self.change(entry, mutate))
        return {}

    # -- passwords --------------------------------------------------------------

    def get_random_password(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ctx.authorize("secretsmanager:GetRandomPassword", "*")
        return {"RandomPassword": passwords.generate(params)}
