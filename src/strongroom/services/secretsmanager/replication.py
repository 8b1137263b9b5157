"""Replicas: other regions of this deployment, and cross-account replicas.

A regional replica is a read-only secret with the same name (and the same
ARN suffix) in another region, encrypted under that region's key (its own
KmsKeyId, or that region's aws/secretsmanager). A cross-account replica is
a secret that account B created with CrossAccountPrimaryARN, linked by the
primary's owner with AssociateCrossAccountReplica. Both are kept in sync
synchronously: after every committed change of the primary, each labelled
version missing from a replica is decrypted (or taken from the request)
and sealed again under the replica's key, with the caller's KMS
permissions, as AWS requires them. A replica that cannot be brought in sync
is marked ``Failed`` with the reason; the primary's change stands.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping
from typing import Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.services.secretsmanager import errors
from strongroom.services.secretsmanager import records as rec
from strongroom.services.secretsmanager.common import SmBase
from strongroom.services.secretsmanager.envelope import key_for_request, open_value, seal
from strongroom.services.secretsmanager.records import SecretRecord, VersionInfo, VersionValue
from strongroom.services.secretsmanager.repository import SecretsTxn

_REGION = re.compile(r"^([a-z]+-)+\d+$")
Plain = Mapping[str, tuple[bytes, bool]]


class ReplicationOperations(SmBase):
    # -- the sync engine ----------------------------------------------------------

    def _sealed_copies(
        self, ctx: RequestContext, primary: SecretRecord, target: SecretRecord, plain: Plain
    ) -> dict[str, VersionValue]:
        """KMS work first (no transaction open): the versions ``target`` lacks."""
        target_ctx = dataclasses.replace(ctx, region=target.region)
        key_id = key_for_request(target_ctx, target.account, target.region, target.kms_key_id)
        out: dict[str, VersionValue] = {}
        for vid, info in primary.versions.items():
            if not info.stages or vid in target.versions:
                continue
            if vid in plain:
                value, binary = plain[vid]
            else:
                stored = self.repo.value(primary, vid)
                if stored is None:
                    continue
                value, binary = open_value(ctx, primary.arn, vid, stored), stored.binary
            out[vid] = seal(target_ctx, key_id, target.arn, vid, value, binary=binary)
        return out

    def _copy_into(
        self,
        txn: SecretsTxn,
        primary: SecretRecord,
        target: SecretRecord,
        sealed: Mapping[str, VersionValue],
        *,
        regional: bool,
    ) -> None:
        """Make ``target``'s labelled versions those of ``primary``, in the transaction."""
        previous = SecretRecord.loads(target.dumps())
        versions: dict[str, VersionInfo] = {}
        for vid, info in primary.versions.items():
            if not info.stages:
                continue
            have = target.versions.get(vid)
            if have is None and vid not in sealed:
                continue
            keys = [sealed[vid].kms_key_arn] if vid in sealed else list(have.kms_key_ids)  # type: ignore[union-attr]
            versions[vid] = VersionInfo(vid, info.created, list(info.stages), keys)
            if vid in sealed:
                txn.put_value(target, vid, sealed[vid])
        for vid in target.versions:
            if vid not in versions:
                txn.delete_value(target, vid)
        target.versions = versions
        if regional:
            target.description = primary.description
            target.tags = [dict(t) for t in primary.tags]
            target.policy = primary.policy
            target.secret_type = primary.secret_type
            target.rotation_enabled = primary.rotation_enabled
            target.rotation_lambda_arn = primary.rotation_lambda_arn
            target.rotation_rules = primary.rotation_rules
            target.last_rotated = primary.last_rotated
            target.next_rotation = primary.next_rotation
        target.last_changed = primary.last_changed
        txn.put(target, previous)

    def _sync(
        self,
        ctx: RequestContext,
        primary: SecretRecord,
        account: str,
        region: str,
        name: str,
        plain: Plain,
        *,
        regional: bool,
    ) -> str | None:
        """Bring one replica in step; None on success, else why not (no secret in it)."""
        target = self.repo.read().get(account, region, name)
        if target is None:
            return "The replica secret no longer exists."
        try:
            sealed = self._sealed_copies(ctx, primary, target, plain)
        except ServiceError as exc:
            return exc.message
        with self.repo.write() as txn:
            current = txn.get(account, region, name)
            if current is None or current.uid != target.uid:
                return "The replica secret no longer exists."
            self._copy_into(txn, primary, current, sealed, regional=regional)
        return None

    def after_change(
        self, ctx: RequestContext, record: SecretRecord, plain: Plain | None = None
    ) -> None:
        if not record.replicas and not record.cross_account_replicas:
            return
        statuses: dict[str, str | None] = {}
        for replica in record.replicas:
            statuses[replica["Region"]] = self._sync(
                ctx,
                record,
                record.account,
                replica["Region"],
                record.name,
                plain or {},
                regional=True,
            )
        cross: dict[str, str | None] = {}
        for link in record.cross_account_replicas:
            if link.get("ReplicationStatus") == "Detached":
                continue
            parts = link["ReplicaSecretARN"].split(":")
            name = parts[6].rsplit("-", 1)[0]
            cross[link["ReplicaSecretARN"]] = self._sync(
                ctx, record, parts[4], record.region, name, plain or {}, regional=False
            )
        self._set_statuses(record, statuses, cross)

    def _set_statuses(
        self,
        record: SecretRecord,
        regional: Mapping[str, str | None],
        cross: Mapping[str, str | None],
    ) -> SecretRecord:
        with self.repo.write() as txn:
            current = txn.get(record.account, record.region, record.name)
            if current is None or current.uid != record.uid:
                return record
            previous = SecretRecord.loads(current.dumps())
            for replica in current.replicas:
                if replica["Region"] in regional:
                    _status(replica, "Status", regional[replica["Region"]])
            for link in current.cross_account_replicas:
                if link["ReplicaSecretARN"] in cross:
                    _status(link, "ReplicationStatus", cross[link["ReplicaSecretARN"]])
            txn.put(current, previous)
        return current

    # -- regional replicas --------------------------------------------------------

    def add_replicas(
        self,
        ctx: RequestContext,
        record: SecretRecord,
        regions: object,
        force: bool,
        plain: Plain | None = None,
    ) -> SecretRecord:
        specs = _region_specs(regions, record)
        statuses: dict[str, str | None] = {}
        for region, kms_key_id in specs:
            statuses[region] = self._create_replica(
                ctx, record, region, kms_key_id, force, plain or {}
            )
        with self.repo.write() as txn:
            current = txn.get(record.account, record.region, record.name)
            if current is None:
                raise errors.not_found()
            previous = SecretRecord.loads(current.dumps())
            known = {r["Region"] for r in current.replicas}
            for region, kms_key_id in specs:
                if region not in known:
                    entry: dict[str, Any] = {"Region": region}
                    if kms_key_id:
                        entry["KmsKeyId"] = kms_key_id
                    current.replicas.append(entry)
            txn.put(current, previous)
        return self._set_statuses(current, statuses, {})

    def _create_replica(
        self,
        ctx: RequestContext,
        primary: SecretRecord,
        region: str,
        kms_key_id: str | None,
        force: bool,
        plain: Plain,
    ) -> str | None:
        existing = self.repo.read().get(primary.account, region, primary.name)
        ours = existing is not None and existing.primary_region == primary.region
        if existing is not None and not ours and not force:
            return f"Replication failed: Secret name already exists in region {region}."
        replica = SecretRecord(
            account=primary.account,
            region=region,
            name=primary.name,
            uid=uuid.uuid4().hex,
            suffix=primary.suffix,
            created=rec.iso(ctx.now),
            last_changed=primary.last_changed,
            kms_key_id=kms_key_id,
            primary_region=primary.region,
        )
        try:
            sealed = self._sealed_copies(ctx, primary, replica, plain)
        except ServiceError as exc:
            return exc.message
        with self.repo.write() as txn:
            there = txn.get(primary.account, region, primary.name)
            if there is not None:
                if existing is None or there.uid != existing.uid:
                    return f"Replication failed: Secret name already exists in region {region}."
                txn.delete(there)  # our stale replica, or overwritten with ForceOverwrite
            self._copy_into(txn, primary, replica, sealed, regional=True)
        return None

    def replicate_secret_to_regions(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        regions = params.get("AddReplicaRegions")
        force = bool(params.get("ForceOverwriteReplicaSecret"))
        conditions = {
            "secretsmanager:AddReplicaRegions": [
                r.get("Region") for r in regions or [] if isinstance(r, dict)
            ],
            "secretsmanager:ForceOverwriteReplicaSecret": force,
        }
        entry = self.lookup(
            ctx, params.get("SecretId"), "ReplicateSecretToRegions", conditions, allow_replica=False
        )
        record = self.add_replicas(ctx, entry.record, regions, force)
        return {"ARN": record.arn, "ReplicationStatus": [dict(r) for r in record.replicas]}

    def remove_regions_from_replication(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        regions = params.get("RemoveReplicaRegions")
        if not isinstance(regions, list) or not regions:
            raise errors.invalid_parameter("RemoveReplicaRegions must list at least one region.")
        entry = self.lookup(
            ctx, params.get("SecretId"), "RemoveRegionsFromReplication", allow_replica=False
        )
        record = entry.record
        known = {r["Region"] for r in record.replicas}
        for region in regions:
            if region not in known:
                raise errors.invalid_parameter(f"The secret is not replicated to region {region}.")

        def mutate(current: SecretRecord, txn: SecretsTxn) -> None:
            for region in regions:
                replica = txn.get(current.account, region, current.name)
                if replica is not None and replica.primary_region == current.region:
                    txn.delete(replica)
            current.replicas = [r for r in current.replicas if r["Region"] not in regions]

        record = self.change(entry, mutate)
        return {"ARN": record.arn, "ReplicationStatus": [dict(r) for r in record.replicas]}

    def stop_replication_to_replica(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        entry = self.lookup(ctx, params.get("SecretId"), "StopReplicationToReplica")
        record = entry.record
        if record.is_replica:
            primary_region = record.primary_region or record.region

            def promote(current: SecretRecord, txn: SecretsTxn) -> None:
                current.primary_region = None
                primary = txn.get(current.account, primary_region, current.name)
                if primary is not None:
                    before = SecretRecord.loads(primary.dumps())
                    primary.replicas = [
                        r for r in primary.replicas if r["Region"] != current.region
                    ]
                    txn.put(primary, before)

            self.change(entry, promote)
        elif record.cross_account_primary is not None:
            self.detach_cross_account_replica(ctx, entry)
        else:
            raise errors.invalid_request("The secret is not a replica secret.")
        return {"ARN": record.arn}

    def detach_cross_account_replica(self, ctx: RequestContext, entry: Any) -> None:
        """Implemented by CrossAccountOperations."""


def _status(item: dict[str, Any], member: str, problem: str | None) -> None:
    item[member] = "InSync" if problem is None else "Failed"
    if problem is None:
        item.pop("StatusMessage", None)
    else:
        item["StatusMessage"] = problem


def _region_specs(regions: object, record: SecretRecord) -> list[tuple[str, str | None]]:
    if not isinstance(regions, list) or not regions:
        raise errors.invalid_parameter("AddReplicaRegions must list at least one region.")
    out: list[tuple[str, str | None]] = []
    for item in regions:
        region = item.get("Region") if isinstance(item, dict) else None
        if not isinstance(region, str) or not _REGION.match(region):
            raise errors.invalid_parameter("Invalid replica region.")
        if region == record.region:
            raise errors.invalid_parameter("You can't replicate a secret to the region it is in.")
        if region in (r for r, _ in out) or any(r["Region"] == region for r in record.replicas):
            raise errors.invalid_parameter(f"The secret is already replicated to region {region}.")
        key = item.get("KmsKeyId") or None
        out.append((region, key))
    return out
