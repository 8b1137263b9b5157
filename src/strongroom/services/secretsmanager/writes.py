"""CreateSecret, PutSecretValue, UpdateSecret."""

from __future__ import annotations

import uuid
from typing import Any

from strongroom.context import RequestContext
from strongroom.services.secretsmanager import errors, events
from strongroom.services.secretsmanager import records as rec
from strongroom.services.secretsmanager.common import check_tags, request_tag_conditions
from strongroom.services.secretsmanager.envelope import open_value
from strongroom.services.secretsmanager.records import (
    CURRENT,
    PENDING,
    PREVIOUS,
    SecretRecord,
    VersionValue,
)
from strongroom.services.secretsmanager.repository import SecretsTxn
from strongroom.services.secretsmanager.resolve import check_name
from strongroom.services.secretsmanager.stages import check_stage_names
from strongroom.services.secretsmanager.versions import VersionWriter, request_token, secret_value

MAX_DESCRIPTION = 2048


def _description(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise errors.invalid_parameter(
            f"The description must be a string of at most {MAX_DESCRIPTION} characters."
        )
    return value


def _kms_key_id(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 2048:
        raise errors.invalid_parameter("KmsKeyId must be a key ID, key ARN, alias or alias ARN.")
    return value


class WriteOperations(VersionWriter):
    def create_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(params.get("Name"))
        description = _description(params.get("Description"))
        kms_key_id = _kms_key_id(params.get("KmsKeyId"))
        tags = check_tags(params.get("Tags"))
        value = secret_value(params)
        token = request_token(params)
        cross_primary = params.get("CrossAccountPrimaryARN")
        if cross_primary is not None:
            self.check_cross_account_replica_request(params, kms_key_id)
        regions = params.get("AddReplicaRegions")
        conditions: dict[str, Any] = {
            "secretsmanager:Name": name,
            **request_tag_conditions(tags),
        }
        if description is not None:
            conditions["secretsmanager:Description"] = description
        if kms_key_id is not None:
            conditions["secretsmanager:KmsKeyId"] = kms_key_id
        if regions:
            conditions["secretsmanager:AddReplicaRegions"] = [
                r.get("Region") for r in regions if isinstance(r, dict)
            ]
            conditions["secretsmanager:ForceOverwriteReplicaSecret"] = bool(
                params.get("ForceOverwriteReplicaSecret")
            )

        existing = self.repo.entry(ctx.account_id, ctx.region, name)
        if existing is not None:
            self.authorize(ctx, existing, "CreateSecret", conditions)
            record = existing.record
            if record.deleted:
                raise errors.invalid_request(
                    "You can't create this secret because a secret with this name is already "
                    "scheduled for deletion."
                )
            if (
                value is not None
                and params.get("ClientRequestToken") is not None
                and token in record.versions
            ):
                if self.same_value(ctx, record, token, value):
                    return {"ARN": record.arn, "Name": record.name, "VersionId": token}
                raise errors.exists(errors.IMMUTABLE_VERSION)
            raise errors.exists(f"The operation failed because the secret {name} already exists.")

        now = rec.iso(ctx.now)
        record = SecretRecord(
            account=ctx.account_id,
            region=ctx.region,
            name=name,
            uid=uuid.uuid4().hex,
            suffix=rec.new_suffix(),
            created=now,
            last_changed=now,
            description=description,
            kms_key_id=kms_key_id,
            secret_type=params.get("Type") or None,
            tags=tags,
        )
        ctx.authorize("secretsmanager:CreateSecret", record.arn, conditions=conditions)
        if tags:
            ctx.authorize("secretsmanager:TagResource", record.arn, conditions=conditions)
        ctx.audit.setdefault("resources", []).append(record.arn)
        if cross_primary is not None:
            record.cross_account_primary = {
                "PrimarySecretARN": str(cross_primary),
                "ReplicationStatus": "Pending",
            }
        sealed = self.seal_for(ctx, record, token, value) if value is not None else None

        with self.repo.write() as txn:
            if txn.get(record.account, record.region, name) is not None:
                raise errors.exists(
                    f"The operation failed because the secret {name} already exists."
                )
            if sealed is not None:
                self.attach_version(record, txn, token, sealed, None, now)
            txn.put(record, None)

        out: dict[str, Any] = {"ARN": record.arn, "Name": record.name}
        if sealed is not None:
            out["VersionId"] = token
        if regions:
            plain = {token: value} if value is not None else {}
            record = self.add_replicas(
                ctx, record, regions, bool(params.get("ForceOverwriteReplicaSecret")), plain
            )
            out["ReplicationStatus"] = [dict(r) for r in record.replicas]
        return out

    def put_secret_value(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stages = params.get("VersionStages")
        labels = check_stage_names(stages) if stages is not None else None
        entry = self.lookup(ctx, params.get("SecretId"), "PutSecretValue", allow_replica=False)
        _check_not_linked_replica(entry.record)
        value = secret_value(params)
        if value is None:
            raise errors.invalid_parameter("You must provide either SecretString or SecretBinary.")
        token = request_token(params)
        record, _ = self.write_version(ctx, entry, value, token, labels)
        return {
            "ARN": record.arn,
            "Name": record.name,
            "VersionId": token,
            "VersionStages": list(record.versions[token].stages),
        }

    def update_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        description = _description(params.get("Description"))
        kms_key_id = _kms_key_id(params.get("KmsKeyId"))
        value = secret_value(params)
        conditions: dict[str, Any] = {}
        if description is not None:
            conditions["secretsmanager:Description"] = description
        if kms_key_id is not None:
            conditions["secretsmanager:KmsKeyId"] = kms_key_id
        entry = self.lookup(
            ctx, params.get("SecretId"), "UpdateSecret", conditions, allow_replica=False
        )
        old = entry.record
        out: dict[str, Any] = {"ARN": old.arn, "Name": old.name}
        token = request_token(params) if value is not None else None
        if value is not None:
            _check_not_linked_replica(old)
        if value is not None and token is not None and _has_value(old, token):
            if self.same_value(ctx, old, token, value):
                return {**out, "VersionId": token}  # a retry: nothing to do
            raise errors.exists(errors.IMMUTABLE_VERSION)
        key_changed = "KmsKeyId" in params and kms_key_id != old.kms_key_id
        target = SecretRecord.loads(old.dumps())
        if key_changed:
            target.kms_key_id = kms_key_id
        # Every KMS call before the transaction: a new version under the (new)
        # key, or the labelled versions re-encrypted when only the key changes.
        sealed = self.seal_for(ctx, target, token, value) if value and token else None
        rekeyed: dict[str, VersionValue] = {}
        if key_changed and value is None:
            rekeyed = self._reencrypt_labelled(ctx, old, target)
        secret_type = params.get("Type")
        now = rec.iso(ctx.now)
        abandoned = False

        def mutate(record: SecretRecord, txn: SecretsTxn) -> None:
            nonlocal abandoned
            if description is not None:
                record.description = description
            if key_changed:
                record.kms_key_id = kms_key_id
            if secret_type is not None:
                record.secret_type = secret_type or None
            for vid, resealed in rekeyed.items():
                if vid in record.versions:
                    txn.put_value(record, vid, resealed)
                    record.versions[vid].kms_key_ids = [resealed.kms_key_arn]
            if sealed is not None and token is not None:
                abandoned = self.attach_version(record, txn, token, sealed, None, now)

        record = self.change(entry, mutate, now=now)
        if rekeyed:
            self.repo.forget_values()
        if abandoned:
            events.publish(
                self.platform, events.ROTATION_ABANDONED, record.account, record.region, record.arn
            )
        if value is not None and token is not None:
            out["VersionId"] = token
            self.after_change(ctx, record, {token: value})
        else:
            self.after_change(ctx, record)
        return out

    def _reencrypt_labelled(
        self, ctx: RequestContext, record: SecretRecord, target: SecretRecord
    ) -> dict[str, VersionValue]:
        """AWS re-encrypts the AWSCURRENT, AWSPENDING and AWSPREVIOUS versions under a new key."""
        out: dict[str, VersionValue] = {}
        for stage in (CURRENT, PENDING, PREVIOUS):
            vid = record.version_for_stage(stage)
            if vid is None or vid in out:
                continue
            stored = self.repo.value(record, vid)
            if stored is None:
                continue
            plaintext = open_value(ctx, record.arn, vid, stored)
            out[vid] = self.seal_for(ctx, target, vid, (plaintext, stored.binary))
        return out

    def check_cross_account_replica_request(
        self, params: dict[str, Any], kms_key_id: str | None
    ) -> None:
        for member in ("SecretString", "SecretBinary", "Description", "AddReplicaRegions", "Type"):
            if params.get(member) is not None:
                raise errors.invalid_parameter(
                    f"You can't include {member} when you create a cross-account replica secret."
                )
        if kms_key_id is None:
            raise errors.invalid_parameter(
                "A cross-account replica secret needs a customer managed KMS key in KmsKeyId."
            )


def _has_value(record: SecretRecord, version_id: str) -> bool:
    info = record.versions.get(version_id)
    return info is not None and info.has_value


def _check_not_linked_replica(record: SecretRecord) -> None:
    link = record.cross_account_primary
    if link is not None and link.get("ReplicationStatus") != "Detached":
        raise errors.invalid_request(
            "You can't change the value of a cross-account replica secret: it receives "
            "its value from its primary secret."
        )
