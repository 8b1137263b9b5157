"""Reads and writes of IAM records inside one Store transaction.

:class:`IamData` is the only code that knows the key layout of
``records.py``; the IAM and STS services use it through
``IdentityStore.read()`` / ``IdentityStore.write()``. It keeps the indexes
(group membership, policy attachments, a user's keys) consistent with the
records they mirror; AWS rules (quotas, conflicts) belong to the services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from strongroom.iam import records as rec
from strongroom.iam.aws_managed import aws_managed_policies, aws_managed_policy
from strongroom.iam.errors import invalid_input, no_such_entity
from strongroom.iam.records import Entity, KeyRecord, ManagedPolicy
from strongroom.storage.base import Txn

_NOUN = {"user": "user", "group": "group", "role": "role"}
_PAGE = 200


def parse_policy_arn(arn: str) -> tuple[str, str, str]:
    """(account, path, name) of a managed policy ARN; InvalidInput otherwise."""
    parts = arn.split(":", 5)
    if (
        len(parts) != 6
        or parts[0] != "arn"
        or parts[2] != "iam"
        or not parts[5].startswith("policy/")
        or not parts[4]
    ):
        raise invalid_input(f"ARN {arn} is not valid.")
    resource = parts[5][len("policy") :]
    path, _, name = resource.rpartition("/")
    if not name:
        raise invalid_input(f"ARN {arn} is not valid.")
    return parts[4], path + "/", name


class IamData:
    def __init__(self, txn: Txn) -> None:
        self.txn = txn

    # -- accounts -----------------------------------------------------------

    def account(self, account: str) -> dict[str, Any] | None:
        raw = self.txn.get(rec.account_key(account))
        return None if raw is None else dict(rec.loads(raw))

    def put_account(self, account: str, record: dict[str, Any]) -> None:
        self.txn.put(rec.account_key(account), rec.dumps(record))

    def accounts(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for _, raw in self._iter("accounts/"):
            out.append(dict(rec.loads(raw)))
        return out

    # -- users, groups, roles -----------------------------------------------

    def get(self, account: str, kind: str, name: str) -> Entity | None:
        raw = self.txn.get(rec.entity_key(account, kind, name))
        return None if raw is None else Entity.from_bytes(raw)

    def require(self, account: str, kind: str, name: str) -> Entity:
        entity = self.get(account, kind, name)
        if entity is None:
            raise no_such_entity(f"The {_NOUN[kind]} with name {name} cannot be found.")
        return entity

    def put(self, entity: Entity) -> None:
        self.txn.put(entity.key, entity.to_bytes())

    def delete(self, entity: Entity) -> None:
        self.txn.delete(entity.key)

    def entities(
        self,
        account: str,
        kind: str,
        *,
        path_prefix: str = "/",
        marker: str = "",
        limit: int | None = None,
        where: Callable[[Entity], bool] | None = None,
    ) -> tuple[list[Entity], str | None]:
        """A page of entities in name order, and the marker for the next page."""
        prefix = rec.entity_prefix(account, kind)
        start = prefix + marker if marker else ""
        out: list[Entity] = []
        for _, raw in self._iter(prefix, start_after=start):
            entity = Entity.from_bytes(raw)
            if not entity.path.startswith(path_prefix):
                continue
            if where is not None and not where(entity):
                continue
            if limit is not None and len(out) == limit:
                return out, out[-1].name.lower()
            out.append(entity)
        return out, None

    def rename(self, entity: Entity, new_name: str, new_path: str) -> Entity:
        """Move a user or group to a new name/path, carrying every index along."""
        renamed = replace(entity, name=new_name, path=new_path)
        if new_name.lower() == entity.name.lower():
            self.put(renamed)
            return renamed
        self.delete(entity)
        for arn in entity.attached:
            policy = self.policy(arn)
            if policy is not None:
                self.unindex_use(entity, policy, rec.PERMISSIONS)
                self.index_use(renamed, policy, rec.PERMISSIONS)
        if entity.boundary is not None:
            boundary = self.policy(entity.boundary)
            if boundary is not None:
                self.unindex_use(entity, boundary, rec.BOUNDARY)
                self.index_use(renamed, boundary, rec.BOUNDARY)
        if entity.kind == "user":
            for group in entity.groups:
                self.txn.delete(rec.member_key(entity.account, group, entity.name))
                self.txn.put(rec.member_key(entity.account, group, new_name), b"{}")
            old_keys = rec.keys_prefix(entity.account, entity.name)
            for key in self.owned_keys(entity.account, entity.name):
                self.txn.delete(old_keys + key.access_key_id)
                key.user = new_name.lower()
                self.put_key(key)
        elif entity.kind == "group":
            for member in self.member_names(entity.account, entity.name):
                self.txn.delete(rec.member_key(entity.account, entity.name, member))
                self.txn.put(rec.member_key(entity.account, new_name, member), b"{}")
                user = self.get(entity.account, "user", member)
                if user is not None:
                    user.groups = [
                        new_name.lower() if g == entity.name.lower() else g for g in user.groups
                    ]
                    self.put(user)
        self.put(renamed)
        return renamed

    def count(self, account: str, kind: str) -> int:
        return sum(1 for _ in self._iter(rec.entity_prefix(account, kind)))

    # -- group membership ---------------------------------------------------

    def add_member(self, group: Entity, user: Entity) -> None:
        self.txn.put(rec.member_key(group.account, group.name, user.name), b"{}")

    def remove_member(self, group: Entity, user: Entity) -> None:
        self.txn.delete(rec.member_key(group.account, group.name, user.name))

    def member_names(self, account: str, group: str) -> list[str]:
        prefix = rec.member_prefix(account, group)
        return [key[len(prefix) :] for key, _ in self._iter(prefix)]

    # -- managed policies ---------------------------------------------------

    def policy(self, arn: str) -> ManagedPolicy | None:
        account, path, name = parse_policy_arn(arn)
        if account == rec.AWS_ACCOUNT:
            found = aws_managed_policy(name)
        else:
            raw = self.txn.get(rec.policy_key(account, name))
            found = None if raw is None else ManagedPolicy.from_bytes(raw)
        if found is None or found.path != path or found.name.lower() != name.lower():
            return None
        return found

    def require_policy(self, arn: str) -> ManagedPolicy:
        found = self.policy(arn)
        if found is None:
            raise no_such_entity(f"Policy {arn} does not exist or is not attachable.")
        return found

    def local_policy(self, account: str, name: str) -> ManagedPolicy | None:
        raw = self.txn.get(rec.policy_key(account, name))
        return None if raw is None else ManagedPolicy.from_bytes(raw)

    def put_policy(self, policy: ManagedPolicy) -> None:
        if policy.is_aws_managed:
            raise ValueError("AWS managed policies are built in")
        self.txn.put(rec.policy_key(policy.account, policy.name), policy.to_bytes())

    def delete_policy(self, policy: ManagedPolicy) -> None:
        self.txn.delete(rec.policy_key(policy.account, policy.name))

    def local_policies(self, account: str) -> list[ManagedPolicy]:
        return [ManagedPolicy.from_bytes(raw) for _, raw in self._iter(rec.policy_prefix(account))]

    def all_policies(self, account: str, scope: str = "All") -> list[ManagedPolicy]:
        """Policies visible in ``account``: AWS managed first (as IAM lists them), then local."""
        out: list[ManagedPolicy] = []
        if scope in ("All", "AWS"):
            out.extend(aws_managed_policies())
        if scope in ("All", "Local"):
            out.extend(self.local_policies(account))
        return out

    # -- policy attachment index -------------------------------------------

    def index_use(self, entity: Entity, policy: ManagedPolicy, usage: str) -> None:
        key = rec.attach_key(entity.account, policy.ref, usage, entity.kind, entity.name)
        self.txn.put(key, rec.dumps({"name": entity.name, "id": entity.id}))

    def unindex_use(self, entity: Entity, policy: ManagedPolicy, usage: str) -> None:
        self.txn.delete(rec.attach_key(entity.account, policy.ref, usage, entity.kind, entity.name))

    def policy_uses(
        self, account: str, policy: ManagedPolicy, usage: str | None = None
    ) -> list[tuple[str, str, dict[str, str]]]:
        """(usage, kind, {"name", "id"}) for every entity using ``policy`` in ``account``."""
        prefix = rec.attach_prefix(account, policy.ref)
        out: list[tuple[str, str, dict[str, str]]] = []
        for key, raw in self._iter(rec.attach_prefix(account, policy.ref, usage)):
            use, kind, _ = key[len(prefix) :].split("/", 2)
            out.append((use, kind, dict(rec.loads(raw))))
        return out

    def usage_counts(self, account: str, policy: ManagedPolicy) -> tuple[int, int]:
        """(AttachmentCount, PermissionsBoundaryUsageCount) in ``account``."""
        uses = self.policy_uses(account, policy)
        attached = sum(1 for use, _, _ in uses if use == rec.PERMISSIONS)
        return attached, len(uses) - attached

    # -- access keys --------------------------------------------------------

    def key(self, access_key_id: str) -> KeyRecord | None:
        raw = self.txn.get(rec.akid_key(access_key_id))
        return None if raw is None else KeyRecord.from_bytes(raw)

    def put_key(self, key: KeyRecord) -> None:
        self.txn.put(rec.akid_key(key.access_key_id), key.to_bytes())
        if key.kind in ("user", "root"):
            prefix = rec.keys_prefix(key.account, key.user if key.kind == "user" else None)
            self.txn.put(prefix + key.access_key_id, b"{}")
        if key.kind == "session" and key.expires is not None:
            self.txn.put(rec.expiry_key(key.expires, key.access_key_id), b"{}")

    def delete_key(self, key: KeyRecord) -> None:
        self.txn.delete(rec.akid_key(key.access_key_id))
        self.txn.delete(rec.last_used_key(key.access_key_id))
        if key.kind in ("user", "root"):
            prefix = rec.keys_prefix(key.account, key.user if key.kind == "user" else None)
            self.txn.delete(prefix + key.access_key_id)
        if key.kind == "session" and key.expires is not None:
            self.txn.delete(rec.expiry_key(key.expires, key.access_key_id))

    def owned_keys(self, account: str, user: str | None) -> list[KeyRecord]:
        """A user's access keys (``user=None``: the account root's), oldest first."""
        prefix = rec.keys_prefix(account, user)
        out: list[KeyRecord] = []
        for key, _ in self._iter(prefix):
            found = self.key(key[len(prefix) :])
            if found is not None:
                out.append(found)
        return sorted(out, key=lambda k: (k.created, k.access_key_id))

    def key_last_used(self, access_key_id: str) -> dict[str, str] | None:
        raw = self.txn.get(rec.last_used_key(access_key_id))
        return None if raw is None else dict(rec.loads(raw))

    def role_last_used(self, account: str, role: str) -> dict[str, str] | None:
        raw = self.txn.get(rec.role_last_used_key(account, role))
        return None if raw is None else dict(rec.loads(raw))

    # -- helpers ------------------------------------------------------------

    def _iter(self, prefix: str, *, start_after: str = "") -> Iterator[tuple[str, bytes]]:
        """Every pair under ``prefix`` after ``start_after``, a page at a time."""
        after = start_after
        while True:
            rows = self.txn.scan(prefix, start_after=after, limit=_PAGE)
            yield from rows
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]
