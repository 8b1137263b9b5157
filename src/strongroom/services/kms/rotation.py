"""Key rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus,
RotateKeyOnDemand, ListKeyRotations, and the rotation step the job runs.

A rotation appends a backing key; the key keeps its id and ARN, encrypts
with the newest backing key and decrypts with any of them (the ciphertext
names its backing key). For a multi-Region primary, the new backing key is
copied to every replica in the same transaction, as KMS keeps the material of
related multi-Region keys identical.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from strongroom.context import RequestContext
from strongroom.services.kms import errors
from strongroom.services.kms import events as kms_events
from strongroom.services.kms import records as rec
from strongroom.services.kms.common import KmsBase, paged
from strongroom.services.kms.events import KeyEvent, KmsEvents
from strongroom.services.kms.keys import new_material
from strongroom.services.kms.records import KeyRecord
from strongroom.services.kms.repository import KeyEntry, KmsTxn
from strongroom.services.kms.states import check_state

MIN_PERIOD, MAX_PERIOD, DEFAULT_PERIOD = 90, 2560, 365
# RotateKeyOnDemand: "a maximum of 25 times per KMS key" (KMS API reference).
MAX_ON_DEMAND = 25


def _rotatable(record: KeyRecord, what: str) -> None:
    if record.key_spec != "SYMMETRIC_DEFAULT":
        raise errors.unsupported(
            f"{record.arn} has key spec {record.key_spec}: {what} is supported only on "
            "symmetric encryption KMS keys."
        )
    if record.multi_region and not record.is_primary:
        raise errors.unsupported(
            f"{record.arn} is a multi-Region replica key: {what} is set on the primary key."
        )


def rotate(txn: KmsTxn, record: KeyRecord, now: datetime, rotation_type: str) -> None:
    """Append a fresh backing key to ``record`` (and to its replicas); caller saves ``record``."""
    material = new_material(record.key_spec, rec.iso(now))
    material.rotation_type = rotation_type
    material.rotated = rec.iso(now)
    record.materials.append(material)
    if record.is_primary:
        for region in record.replica_regions:
            replica = txn.key(record.account, region, record.key_id)
            if replica is not None:
                replica.materials.append(material)
                txn.put_key(replica)


class RotationOperations(KmsBase):
    def _own(self, ctx: RequestContext, params: dict[str, Any]) -> KeyEntry:
        entry, _ = self.lookup(ctx, params, allow_alias=False)
        self.require_same_account(ctx, entry)
        return entry

    def enable_key_rotation(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._own(ctx, params)
        period = params.get("RotationPeriodInDays")
        period = DEFAULT_PERIOD if period is None else period
        if not isinstance(period, int) or not MIN_PERIOD <= period <= MAX_PERIOD:
            raise errors.value_error(
                "rotationPeriodInDays",
                period,
                f"Member must have value between {MIN_PERIOD} and {MAX_PERIOD}",
            )
        self.authorize(ctx, entry, "EnableKeyRotation", extra={"kms:RotationPeriodInDays": period})
        check_state(entry.record, "EnableKeyRotation")
        if entry.record.origin != "AWS_KMS":
            raise errors.unsupported(
                f"{entry.arn} has imported key material: automatic rotation is not supported."
            )
        _rotatable(entry.record, "automatic rotation")
        when = rec.iso(ctx.now + timedelta(days=period))

        def change(record: KeyRecord, txn: KmsTxn) -> None:
            txn.delete_due(rec.DUE_ROTATE, record.next_rotation, record)
            record.rotation_enabled = True
            record.rotation_period_days = period
            record.next_rotation = when
            txn.put_due(rec.DUE_ROTATE, when, record)

        self.update_key(entry, "EnableKeyRotation", change)
        return {}

    def disable_key_rotation(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._own(ctx, params)
        self.authorize(ctx, entry, "DisableKeyRotation")
        check_state(entry.record, "DisableKeyRotation")
        _rotatable(entry.record, "automatic rotation")

        def change(record: KeyRecord, txn: KmsTxn) -> None:
            txn.delete_due(rec.DUE_ROTATE, record.next_rotation, record)
            record.rotation_enabled = False
            record.next_rotation = None

        self.update_key(entry, "DisableKeyRotation", change)
        return {}

    def get_key_rotation_status(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        entry, _ = self.lookup(ctx, params, allow_alias=False)
        self.authorize(ctx, entry, "GetKeyRotationStatus")
        record = entry.record
        out: dict[str, Any] = {"KeyId": record.arn, "KeyRotationEnabled": record.rotation_enabled}
        if record.rotation_enabled and record.rotation_period_days:
            out["RotationPeriodInDays"] = record.rotation_period_days
        if record.rotation_enabled and record.next_rotation:
            out["NextRotationDate"] = rec.parse_iso(record.next_rotation)
        return out

    def rotate_key_on_demand(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._own(ctx, params)
        self.authorize(ctx, entry, "RotateKeyOnDemand")
        check_state(entry.record, "RotateKeyOnDemand")
        _rotatable(entry.record, "on-demand rotation")
        if entry.record.manager == "AWS":
            raise errors.unsupported("On-demand rotation of AWS managed keys is not supported.")

        happened: list[KeyEvent] = []

        def change(record: KeyRecord, txn: KmsTxn) -> None:
            happened.clear()  # a retried transaction reports only its own change
            previous = record.current_material()
            if record.origin == "EXTERNAL":
                pending = [m for m in record.materials if m.rotation_type == "PENDING_ROTATION"]
                if not pending:
                    raise errors.unsupported(
                        f"{record.arn} has imported key material: import new key material "
                        "(ImportType NEW_KEY_MATERIAL) before rotating on demand."
                    )
                # The newly imported material becomes current: move it to the end.
                record.materials.remove(pending[0])
                pending[0].rotation_type = "ON_DEMAND"
                pending[0].rotated = rec.iso(ctx.now)
                record.materials.append(pending[0])
            else:
                if record.on_demand_rotations >= MAX_ON_DEMAND:
                    raise errors.limit_exceeded(
                        f"{record.arn} has been rotated on demand {MAX_ON_DEMAND} times, "
                        "the maximum."
                    )
                rotate(txn, record, ctx.now, "ON_DEMAND")
            record.on_demand_rotations += 1
            prior = previous.id if previous is not None else None
            happened.append(kms_events.rotation(record, "ON_DEMAND", prior))

        self.update_key(entry, "RotateKeyOnDemand", change)
        # AWS sends "KMS CMK Rotation" for on-demand rotations too (AWS KMS
        # Developer Guide, "Monitor KMS keys with Amazon EventBridge").
        KmsEvents(self.platform).publish(happened)
        return {"KeyId": entry.record.key_id}

    def list_key_rotations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._own(ctx, params)
        self.authorize(ctx, entry, "ListKeyRotations")
        record = entry.record
        if record.key_spec != "SYMMETRIC_DEFAULT":
            raise errors.unsupported(
                f"{record.arn} has key spec {record.key_spec}: it has no rotations."
            )
        include_all = params.get("IncludeKeyMaterial") == "ALL_KEY_MATERIAL"
        current = record.current_material()
        rows: list[dict[str, Any]] = []
        for material in record.materials:
            if material.rotation_type is None and not include_all:
                continue
            if material.rotation_type == "PENDING_ROTATION" and not include_all:
                continue
            row: dict[str, Any] = {"KeyId": record.key_id, "KeyMaterialId": material.id}
            if material.rotation_type in ("AUTOMATIC", "ON_DEMAND"):
                row["RotationType"] = material.rotation_type
                row["RotationDate"] = rec.parse_iso(material.rotated or material.created)
            if material.rotation_type == "PENDING_ROTATION":
                row["KeyMaterialState"] = "PENDING_ROTATION"
            else:
                row["KeyMaterialState"] = (
                    "CURRENT"
                    if current is not None and material.id == current.id
                    else "NON_CURRENT"
                )
            if material.imported or record.origin == "EXTERNAL":
                row["ImportState"] = "IMPORTED" if material.secret else "PENDING_IMPORT"
                row["ExpirationModel"] = material.expiration_model or "KEY_MATERIAL_DOES_NOT_EXPIRE"
                if material.valid_to:
                    row["ValidTo"] = rec.parse_iso(material.valid_to)
                if material.description:
                    row["KeyMaterialDescription"] = material.description
            rows.append(row)
        return paged(rows, params, "Rotations")
