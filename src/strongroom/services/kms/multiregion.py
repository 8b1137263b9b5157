"""Multi-Region keys: ReplicateKey, UpdatePrimaryRegion.

Related multi-Region keys share key id, key material, key spec, usage,
origin and rotation settings; each Region's key has its own record (policy,
tags, aliases, state). Every record of the set lists the primary Region and
the replica Regions, so DescribeKey answers from one record. A ciphertext
names the key id and backing key, not the Region, so it decrypts in every
Region of the set.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from strongroom.context import RequestContext
from strongroom.services.kms import errors
from strongroom.services.kms import records as rec
from strongroom.services.kms.common import KmsBase, check_tags, tag_list
from strongroom.services.kms.conditions import caller_keys, request_tag_keys
from strongroom.services.kms.policies import check_lockout, default_key_policy, validate_policy
from strongroom.services.kms.records import KeyRecord, KeyState
from strongroom.services.kms.repository import KeyEntry, KmsTxn

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def _region(value: object, member: str) -> str:
    if not isinstance(value, str) or not _REGION.match(value):
        raise errors.value_error(member, value, "Member must be an AWS Region name")
    return value


def _peers(txn: KmsTxn, record: KeyRecord) -> list[KeyRecord]:
    """Every other record of ``record``'s multi-Region set."""
    out = []
    for region in [record.primary_region, *record.replica_regions]:
        if region is not None and region != record.region:
            peer = txn.key(record.account, region, record.key_id)
            if peer is not None:
                out.append(peer)
    return out


class MultiRegionOperations(KmsBase):
    def _primary(self, ctx: RequestContext, params: dict[str, Any], what: str) -> KeyEntry:
        entry, _ = self.lookup(ctx, params, allow_alias=False)
        self.require_same_account(ctx, entry)
        record = entry.record
        if not record.multi_region:
            raise errors.unsupported(f"{record.arn} is not a multi-Region key: {what}.")
        return entry

    def replicate_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._primary(ctx, params, "only multi-Region keys can be replicated")
        replica_region = _region(params.get("ReplicaRegion"), "replicaRegion")
        tags = check_tags(params.get("Tags"))
        bypass = bool(params.get("BypassPolicyLockoutSafetyCheck"))
        self.authorize(ctx, entry, "ReplicateKey", extra={"kms:ReplicaRegion": replica_region})
        record = entry.record
        if not record.is_primary:
            raise errors.unsupported(
                f"{record.arn} is a replica key: only the primary key can be replicated."
            )
        if replica_region == record.region:
            raise errors.validation("ReplicaRegion must differ from the primary key's Region.")
        if record.state not in (KeyState.ENABLED.value, KeyState.DISABLED.value):
            raise errors.invalid_state(f"{record.arn} is {record.state}.")
        replica_arn = rec.key_arn(replica_region, record.account, record.key_id)
        conditions = {**caller_keys(ctx), **request_tag_keys(tags)} if tags else caller_keys(ctx)
        # The replica is a new key in its Region: IAM must allow CreateKey (and tagging).
        ctx.authorize("kms:CreateKey", "*", conditions=conditions)
        if tags:
            ctx.authorize(
                "kms:TagResource",
                replica_arn,
                resource_account=ctx.account_id,
                conditions=conditions,
            )
        policy = params.get("Policy")
        if policy is None:
            policy = default_key_policy(ctx.account_id)
        else:
            validate_policy(str(policy))
            if not bypass:
                check_lockout(ctx, replica_arn, ctx.account_id, str(policy))
        with self.repo.write() as txn:
            primary = txn.key(record.account, record.region, record.key_id)
            if primary is None:
                raise errors.key_not_found(record.arn)
            if txn.key(record.account, replica_region, record.key_id) is not None:
                raise errors.already_exists(f"Replica key {replica_arn} already exists.")
            replica = copy.deepcopy(primary)
            replica.region = replica_region
            replica.created = rec.iso(ctx.now)
            replica.description = str(params.get("Description") or "")
            replica.policy = str(policy)
            replica.tags = tags
            replica.aliases = []
            replica.deletion_date = None
            replica.pending_window_days = None
            replica.next_rotation = None  # rotation is driven by the primary
            if replica.origin == "EXTERNAL":
                # Imported material is imported into each Region's key separately.
                replica.materials = []
                replica.state = KeyState.PENDING_IMPORT.value
                replica.valid_to = None
            else:
                replica.state = primary.state
            primary.replica_regions.append(replica_region)
            replica.replica_regions = list(primary.replica_regions)
            for peer in _peers(txn, primary):
                peer.replica_regions = list(primary.replica_regions)
                txn.put_key(peer)
            txn.put_key(primary)
            txn.put_key(replica)
        return {
            "ReplicaKeyMetadata": self.metadata(replica),
            "ReplicaPolicy": replica.policy,
            "ReplicaTags": tag_list(replica.tags),
        }

    def update_primary_region(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._primary(ctx, params, "it has no primary Region")
        new_region = _region(params.get("PrimaryRegion"), "primaryRegion")
        self.authorize(ctx, entry, "UpdatePrimaryRegion", extra={"kms:PrimaryRegion": new_region})
        record = entry.record
        if not record.is_primary:
            raise errors.unsupported(
                f"{record.arn} is a replica key: call UpdatePrimaryRegion on the primary key."
            )
        if new_region == record.region:
            return {}
        if new_region not in record.replica_regions:
            raise errors.not_found(
                f"Key '{rec.key_arn(new_region, record.account, record.key_id)}' does not exist"
            )
        target = self.repo.entry(record.account, new_region, record.key_id)
        if target is None:
            raise errors.key_not_found(rec.key_arn(new_region, record.account, record.key_id))
        # The replica that becomes primary must allow it too (its own key policy).
        self.authorize(ctx, target, "UpdatePrimaryRegion", extra={"kms:PrimaryRegion": new_region})
        with self.repo.write() as txn:
            primary = txn.key(record.account, record.region, record.key_id)
            if primary is None:
                raise errors.key_not_found(record.arn)
            members = [primary, *_peers(txn, primary)]
            regions = [m.region for m in members]
            for member in members:
                member.primary_region = new_region
                member.replica_regions = [r for r in regions if r != new_region]
                if member.region == new_region:
                    # Rotation schedule follows the primary.
                    member.rotation_enabled = primary.rotation_enabled
                    member.rotation_period_days = primary.rotation_period_days
                    member.next_rotation = primary.next_rotation
                    if member.next_rotation:
                        txn.put_due(rec.DUE_ROTATE, member.next_rotation, member)
                txn.put_key(member)
            txn.delete_due(rec.DUE_ROTATE, primary.next_rotation, primary)
            primary.next_rotation = None
            txn.put_key(primary)
        return {}
