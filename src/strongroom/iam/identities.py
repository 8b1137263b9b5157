"""The identity data layer: accounts, IAM entities, credentials, STS sessions.

The gateway asks two questions on every request — "whose key is this?"
(:meth:`IdentityStore.lookup_access_key`) and "which policies apply to this
principal?" (:meth:`IdentityStore.policies_for`) — so both are answered from
a small in-process cache with a short TTL. A TTL rather than invalidation
messages keeps nodes independent: a key deactivated or deleted on one node
stops working on every node within ``cache_ttl`` seconds. Writes made through
this object (:meth:`write`) also clear this process's caches at once.

The storage key layout is documented in :mod:`strongroom.iam.records`;
record reads and writes go through :class:`~strongroom.iam.repository.IamData`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from strongroom.iam import records as rec
from strongroom.iam.aws_managed import aws_managed_arn
from strongroom.iam.credentials import (
    EMPTY_POLICIES,
    Credential,
    PrincipalPolicies,
    long_term_credential,
    new_long_term_key,
    session_credential,
)
from strongroom.iam.ids import USER_PREFIX, iso, new_account_id, new_id
from strongroom.iam.principal import Principal, PrincipalType
from strongroom.iam.records import Entity, KeyRecord
from strongroom.iam.repository import IamData
from strongroom.storage.base import Store

__all__ = ["AccountExists", "Credential", "IdentityStore", "PrincipalPolicies"]

# A cache bigger than this is dropped whole: garbage key ids sent by a
# client must not grow memory without bound.
_MAX_CACHE = 50_000
ADMIN_USER = "admin"
ADMIN_POLICY = "AdministratorAccess"


def entity_policies(
    data: IamData, entity: Entity
) -> tuple[tuple[tuple[str, str], ...], tuple[str, str] | None]:
    """The (label, document) identity policies of a user (with its groups'),
    group or role, and its permissions boundary (ARN, document) if any."""
    holders = [entity]
    if entity.kind == "user":
        for group in entity.groups:
            found = data.get(entity.account, "group", group)
            if found is not None:
                holders.append(found)
    identity: list[tuple[str, str]] = []
    seen: set[str] = set()
    for holder in holders:
        for inline in holder.inline.values():
            identity.append((f"{holder.kind}/{holder.name}/{inline['name']}", inline["document"]))
        for arn in holder.attached:
            policy = data.policy(arn)
            if policy is not None and policy.arn not in seen:
                seen.add(policy.arn)
                identity.append((policy.arn, policy.default_document()))
    boundary = None
    if entity.boundary is not None:
        policy = data.policy(entity.boundary)
        if policy is not None:
            boundary = (policy.arn, policy.default_document())
    return tuple(identity), boundary


class AccountExists(ValueError):
    """``create_account`` was given an id that is already taken."""


class IdentityStore:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        *,
        cache_ttl: float = 2.0,
        last_used_interval: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.clock = clock
        self.cache_ttl = cache_ttl
        # AWS itself reports key last-use only approximately; writing it at
        # most this often per key keeps the hot path free of store writes.
        self.last_used_interval = last_used_interval
        self._monotonic = monotonic
        self._keys: dict[str, tuple[float, Credential | None]] = {}
        self._policies: dict[tuple[Any, ...], tuple[float, PrincipalPolicies]] = {}
        # The same, by principal object (credentials are cached, so a
        # caller's requests share one; the entry holds it, so the id is not
        # reused): building the key above cost more than the lookup.
        self._policies_by_principal: dict[int, tuple[Principal, float, PrincipalPolicies]] = {}
        self._last_used_written: dict[str, float] = {}

    # -- data access --------------------------------------------------------

    def read(self) -> IamData:
        """Autocommitted reads (each call sees the latest committed data)."""
        return IamData(self.store)

    @contextmanager
    def write(self, *, invalidate: bool = True) -> Iterator[IamData]:
        """One serializable transaction; this process's caches are cleared after it."""
        try:
            with self.store.transaction() as txn:
                yield IamData(txn)
        finally:
            if invalidate:
                self.invalidate()

    def invalidate(self) -> None:
        self._keys.clear()
        self._policies.clear()
        self._policies_by_principal.clear()

    def clear_cache(self) -> None:
        """Forget everything cached (after a dev-mode reset wiped the store)."""
        self.invalidate()
        self._last_used_written.clear()

    # -- hot path: credentials ----------------------------------------------

    def lookup_access_key(self, access_key_id: str) -> Credential | None:
        now = self._monotonic()
        cached = self._keys.get(access_key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = self._load_credential(access_key_id)
        if len(self._keys) >= _MAX_CACHE:
            self._keys.clear()
        self._keys[access_key_id] = (now + self.cache_ttl, found)
        return found

    def _load_credential(self, access_key_id: str) -> Credential | None:
        data = self.read()
        record = data.key(access_key_id)
        if record is None:
            return None
        if record.kind == "session":
            return session_credential(record)
        user = None
        if record.kind == "user" and record.user is not None:
            user = data.get(record.account, "user", record.user)
        return long_term_credential(record, user)

    def note_key_used(self, access_key_id: str, service: str, region: str) -> None:
        """Record that a key was used (GetAccessKeyLastUsed), at most once per interval."""
        now = self._monotonic()
        last = self._last_used_written.get(access_key_id)
        if last is not None and now - last < self.last_used_interval:
            return
        if len(self._last_used_written) >= _MAX_CACHE:
            self._last_used_written.clear()
        self._last_used_written[access_key_id] = now
        record = {"date": iso(self.clock()), "service": service, "region": region}
        self.store.put(rec.last_used_key(access_key_id), rec.dumps(record))

    def note_role_used(self, account: str, role: str, region: str) -> None:
        """Record a role's last use (GetRole's RoleLastUsed) when it is assumed."""
        record = {"date": iso(self.clock()), "region": region}
        self.store.put(rec.role_last_used_key(account, role), rec.dumps(record))

    # -- hot path: policies --------------------------------------------------

    def policies_for(self, principal: Principal) -> PrincipalPolicies:
        now = self._monotonic()
        hit = self._policies_by_principal.get(id(principal))
        if hit is not None and hit[0] is principal and hit[1] > now:
            return hit[2]
        expires, found = self._policies_for(principal, now)
        if len(self._policies_by_principal) >= _MAX_CACHE:
            self._policies_by_principal.clear()
        self._policies_by_principal[id(principal)] = (principal, expires, found)
        return found

    def _policies_for(self, principal: Principal, now: float) -> tuple[float, PrincipalPolicies]:
        session = principal.session
        cache_key = (
            principal.type.value,
            principal.account_id,
            principal.identity_arn,
            principal.principal_id if session is None else session.issuer_id,
            () if session is None else session.session_policies,
        )
        cached = self._policies.get(cache_key)
        if cached is not None and cached[0] > now:
            return cached
        found = self._load_policies(principal)
        if len(self._policies) >= _MAX_CACHE:
            self._policies.clear()
        entry = self._policies[cache_key] = (now + self.cache_ttl, found)
        return entry

    def _load_policies(self, principal: Principal) -> PrincipalPolicies:
        session_docs = () if principal.session is None else principal.session.session_policies
        data = self.read()
        entity: Entity | None = None
        expected_id = ""
        if principal.type is PrincipalType.ASSUMED_ROLE and principal.session is not None:
            role_name = principal.session.issuer_arn.rsplit("/", 1)[-1]
            entity = data.get(principal.account_id, "role", role_name)
            expected_id = principal.session.issuer_id
        elif principal.type is PrincipalType.USER and principal.user_name is not None:
            entity = data.get(principal.account_id, "user", principal.user_name)
            expected_id = principal.principal_id
        # An entity deleted and re-created under the same name has a new id;
        # credentials of the old one must not inherit the new one's rights.
        if entity is None or entity.id != expected_id:
            return PrincipalPolicies((), None, session_docs) if session_docs else EMPTY_POLICIES
        identity, boundary = entity_policies(data, entity)
        return PrincipalPolicies(identity, boundary, session_docs)

    # -- accounts --------------------------------------------------------------

    def ensure_account(self, account_id: str, name: str) -> tuple[str, str] | None:
        """Create the account with an ``admin`` user holding AdministratorAccess and
        one access key; return (access key id, secret), or None if it existed."""
        try:
            with self.write() as data:
                if data.account(account_id) is not None:
                    return None
                return self._create_account(data, account_id, name)
        except Exception:
            # A concurrent caller may have won the race (a serialization
            # failure on PostgreSQL): then the account exists and all is well.
            if self.read().account(account_id) is not None:
                return None
            raise

    def _create_account(self, data: IamData, account_id: str, name: str) -> tuple[str, str]:
        now = self.clock()
        data.put_account(account_id, {"id": account_id, "name": name, "created": iso(now)})
        admin_policy = data.require_policy(aws_managed_arn(ADMIN_POLICY))
        user = Entity(
            kind="user",
            account=account_id,
            name=ADMIN_USER,
            path="/",
            id=new_id(USER_PREFIX),
            created=iso(now),
            attached=[admin_policy.arn],
        )
        data.put(user)
        data.index_use(user, admin_policy, rec.PERMISSIONS)
        key = new_long_term_key(account_id, user.name, now)
        data.put_key(key)
        return key.access_key_id, key.secret

    def create_account(self, name: str, account_id: str | None = None) -> tuple[str, str, str]:
        """A new account (a fresh random id unless given): (account id, akid, secret)."""
        for _ in range(5):
            candidate = account_id or new_account_id()
            created = self.ensure_account(candidate, name)
            if created is not None:
                return candidate, created[0], created[1]
            if account_id is not None:
                break
        raise AccountExists(f"account {account_id or '(random)'} already exists")

    def list_accounts(self) -> list[dict[str, Any]]:
        """[{"AccountId", "Name", "Created"}] in account id order."""
        return [
            {"AccountId": a["id"], "Name": a["name"], "Created": a["created"]}
            for a in self.read().accounts()
        ]

    # -- STS sessions ----------------------------------------------------------

    def save_session(self, record: KeyRecord) -> None:
        """Store an STS session credential. No cache to clear: the id is new."""
        with self.write(invalidate=False) as data:
            data.put_key(record)

    def purge_expired_sessions(self, now: datetime, *, batch: int = 500) -> int:
        """Delete session credentials that expired at or before ``now``; return how many."""
        cutoff = iso(now)
        purged = 0
        while True:
            rows = self.store.scan(rec.EXPIRY_PREFIX, limit=batch)
            due = [k for k, _ in rows if k[len(rec.EXPIRY_PREFIX) :].rsplit("/", 1)[0] <= cutoff]
            if not due:
                return purged
            with self.write(invalidate=False) as data:
                for key in due:
                    akid = key.rsplit("/", 1)[1]
                    record = data.key(akid)
                    if record is not None:
                        data.delete_key(record)
                    data.txn.delete(key)
                    purged += 1
            for key in due:
                self._keys.pop(key.rsplit("/", 1)[1], None)
            if len(due) < len(rows) or len(rows) < batch:
                return purged
