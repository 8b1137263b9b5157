"""AssociateCrossAccountReplica / DisassociateCrossAccountReplica.

Account B creates a replica secret with ``CrossAccountPrimaryARN`` naming
A's secret and a customer managed key of its own. A's caller then links it:
that needs AssociateCrossAccountReplica and GetSecretValue on the primary,
``secretsmanager:AcceptCrossAccountReplication`` on the replica (granted by
the replica's resource policy), kms:Decrypt on the primary's key and the
right to encrypt under the replica's key. An association that fails leaves
both secrets unchanged. The primary's owner can later detach the replica;
B turns a replica into an ordinary secret with StopReplicationToReplica.
"""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.services.secretsmanager import errors
from strongroom.services.secretsmanager.records import SecretRecord
from strongroom.services.secretsmanager.replication import ReplicationOperations
from strongroom.services.secretsmanager.repository import SecretEntry, SecretsTxn
from strongroom.services.secretsmanager.resolve import parse_secret_id

DETACHED = "Detached"


class CrossAccountOperations(ReplicationOperations):
    def _replica_entry(
        self, ctx: RequestContext, arn: object, primary: SecretRecord
    ) -> SecretEntry:
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            raise errors.invalid_parameter("CrossAccountReplicaARN must be a secret ARN.")
        ref = parse_secret_id(arn, ctx.account_id, ctx.region)
        if ref.account == primary.account:
            raise errors.invalid_parameter(
                "A cross-account replica must be in a different account from its primary."
            )
        entry = self.find(ref)
        if entry is None:
            raise errors.not_found("Secrets Manager can't find the specified replica secret.")
        return entry

    def associate_cross_account_replica(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        primary_entry = self.lookup(
            ctx, params.get("SecretId"), "AssociateCrossAccountReplica", allow_replica=False
        )
        self.authorize(ctx, primary_entry, "GetSecretValue")
        primary = primary_entry.record
        replica_entry = self._replica_entry(ctx, params.get("CrossAccountReplicaARN"), primary)
        self.authorize(ctx, replica_entry, "AcceptCrossAccountReplication")
        replica = replica_entry.record
        link = replica.cross_account_primary or {}
        if link.get("PrimarySecretARN") != primary.arn or replica.deleted:
            raise errors.invalid_request(
                f"The secret {replica.arn} was not created as a replica of {primary.arn}."
            )
        others = [
            r
            for r in primary.cross_account_replicas
            if r["ReplicaSecretARN"] != replica.arn and r.get("ReplicationStatus") != DETACHED
        ]
        if others:
            raise errors.limit_exceeded(
                "A primary secret can have at most one cross-account replica."
            )
        # All KMS work first: if it fails, neither secret has changed.
        sealed = self._sealed_copies(ctx, primary, replica, {})
        role = params.get("ReplicationRoleARN")
        with self.repo.write() as txn:
            current = txn.get(replica.account, replica.region, replica.name)
            if current is None or current.uid != replica.uid:
                raise errors.not_found("Secrets Manager can't find the specified replica secret.")
            current.cross_account_primary = {
                "PrimarySecretARN": primary.arn,
                "ReplicationStatus": "InSync",
            }
            self._copy_into(txn, primary, current, sealed, regional=False)
            owner = txn.get(primary.account, primary.region, primary.name)
            if owner is None or owner.uid != primary.uid:
                raise errors.not_found()
            before = SecretRecord.loads(owner.dumps())
            entry: dict[str, Any] = {"ReplicaSecretARN": replica.arn, "ReplicationStatus": "InSync"}
            if role:
                entry["ReplicationRoleARN"] = str(role)
            owner.cross_account_replicas = [entry]
            txn.put(owner, before)
        return {
            "ARN": primary.arn,
            "CrossAccountReplicaARN": replica.arn,
            "ReplicationStatus": "InSync",
        }

    def disassociate_cross_account_replica(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        entry = self.lookup(
            ctx, params.get("SecretId"), "DisassociateCrossAccountReplica", allow_deleted=True
        )
        primary = entry.record
        arn = params.get("CrossAccountReplicaARN")
        if not any(r["ReplicaSecretARN"] == arn for r in primary.cross_account_replicas):
            raise errors.not_found("The secret has no cross-account replica with that ARN.")

        def mutate(record: SecretRecord, txn: SecretsTxn) -> None:
            for link in record.cross_account_replicas:
                if link["ReplicaSecretARN"] == arn:
                    link["ReplicationStatus"] = DETACHED
                    link.pop("StatusMessage", None)
            ref = parse_secret_id(arn, ctx.account_id, ctx.region)
            for name, suffix in ref.candidates:
                replica = txn.get(ref.account, ref.region, name)
                if replica is not None and (suffix is None or replica.suffix == suffix):
                    before = SecretRecord.loads(replica.dumps())
                    if replica.cross_account_primary is not None:
                        replica.cross_account_primary["ReplicationStatus"] = DETACHED
                    txn.put(replica, before)
                    break

        self.change(entry, mutate)
        return {"ARN": primary.arn, "CrossAccountReplicaARN": arn}

    def detach_cross_account_replica(self, ctx: RequestContext, entry: Any) -> None:
        """StopReplicationToReplica on a cross-account replica: it becomes standalone."""
        replica: SecretRecord = entry.record
        primary_arn = (replica.cross_account_primary or {}).get("PrimarySecretARN", "")

        def mutate(record: SecretRecord, txn: SecretsTxn) -> None:
            record.cross_account_primary = None
            try:
                ref = parse_secret_id(primary_arn, record.account, record.region)
            except Exception:
                return
            for name, suffix in ref.candidates:
                primary = txn.get(ref.account, ref.region, name)
                if primary is not None and (suffix is None or primary.suffix == suffix):
                    before = SecretRecord.loads(primary.dumps())
                    primary.cross_account_replicas = [
                        r
                        for r in primary.cross_account_replicas
                        if r["ReplicaSecretARN"] != record.arn
                    ]
                    txn.put(primary, before)
                    break

        self.change(entry, mutate)
