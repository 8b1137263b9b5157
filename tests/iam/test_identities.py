"""IdentityStore: accounts, credential lookup and its cache, policies_for, sessions."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.fake_platform import ACCOUNT, FakeClock
from tests.support.memory_store import MemoryStore

from strongroom.iam import records as rec
from strongroom.iam.credentials import new_long_term_key
from strongroom.iam.identities import AccountExists, IdentityStore
from strongroom.iam.ids import SESSION_KEY_PREFIX, new_id, token_digest
from strongroom.iam.principal import Principal, PrincipalType, SessionContext
from strongroom.iam.records import Entity

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _store() -> tuple[MemoryStore, FakeClock, IdentityStore]:
    clock = FakeClock()
    store = MemoryStore()
    return store, clock, IdentityStore(store, clock, monotonic=clock.monotonic)


def test_ensure_account_creates_admin_with_administrator_access() -> None:
    _, _, ids = _store()
    created = ids.ensure_account(ACCOUNT, "main")
    assert created is not None
    akid, secret = created
    assert akid.startswith("AKIA") and len(akid) == 20
    assert len(secret) == 40
    cred = ids.lookup_access_key(akid)
    assert cred is not None and cred.active and cred.secret_access_key == secret
    assert cred.principal.arn == f"arn:aws:iam::{ACCOUNT}:user/admin"
    assert cred.principal.type is PrincipalType.USER
    assert cred.principal.principal_id.startswith("AIDA")
    policies = ids.policies_for(cred.principal)
    assert [label for label, _ in policies.identity] == [ADMIN_ARN]
    doc = json.loads(policies.identity[0][1])
    assert doc["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    assert policies.boundary is None and policies.session == ()


def test_ensure_account_is_idempotent() -> None:
    store, _, ids = _store()
    assert ids.ensure_account(ACCOUNT, "main") is not None
    before = store.dump()
    assert ids.ensure_account(ACCOUNT, "renamed") is None
    assert store.dump() == before


def test_ensure_account_concurrent_callers_create_once() -> None:
    store, clock, _ = _store()
    results: list[tuple[str, str] | None] = []
    barrier = threading.Barrier(8)

    def run() -> None:
        ids = IdentityStore(store, clock)  # one per "process"
        barrier.wait()
        results.append(ids.ensure_account(ACCOUNT, "main"))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for r in results if r is not None) == 1
    keys = [k for k in store.dump() if k.startswith("auth/akid/")]
    assert len(keys) == 1


def test_create_and_list_accounts() -> None:
    _, _, ids = _store()
    account, akid, _ = ids.create_account("dev")
    assert len(account) == 12 and account.isdigit()
    cred = ids.lookup_access_key(akid)
    assert cred is not None and cred.principal.account_id == account
    ids.create_account("prod", ACCOUNT)
    listed = {a["AccountId"]: a["Name"] for a in ids.list_accounts()}
    assert listed == {account: "dev", ACCOUNT: "prod"}
    with pytest.raises(AccountExists):
        ids.create_account("again", ACCOUNT)


def test_unknown_key_is_none() -> None:
    _, _, ids = _store()
    assert ids.lookup_access_key("AKIAAAAAAAAAAAAAAAAA") is None


def test_lookup_is_cached_within_ttl() -> None:
    store, _, ids = _store()
    akid, _ = ids.ensure_account(ACCOUNT, "main") or ("", "")
    ids.lookup_access_key(akid)
    reads = store.reads
    for _ in range(100):
        assert ids.lookup_access_key(akid) is not None
    assert store.reads == reads


def test_deactivation_on_another_node_takes_effect_after_ttl() -> None:
    store, clock, node_a = _store()
    node_b = IdentityStore(store, clock, monotonic=clock.monotonic)
    akid, _ = node_a.ensure_account(ACCOUNT, "main") or ("", "")
    cred = node_a.lookup_access_key(akid)
    assert cred is not None and cred.active
    with node_b.write() as data:
        key = data.key(akid)
        assert key is not None
        key.status = "Inactive"
        data.put_key(key)
    # node B's own cache was cleared by its write; node A still has the old view…
    assert node_b.lookup_access_key(akid).active is False  # type: ignore[union-attr]
    assert node_a.lookup_access_key(akid).active is True  # type: ignore[union-attr]
    clock.advance(2.1)
    # …until its TTL runs out.
    assert node_a.lookup_access_key(akid).active is False  # type: ignore[union-attr]


def test_deleted_key_disappears_after_ttl_on_other_node() -> None:
    store, clock, node_a = _store()
    node_b = IdentityStore(store, clock, monotonic=clock.monotonic)
    akid, _ = node_a.ensure_account(ACCOUNT, "main") or ("", "")
    assert node_a.lookup_access_key(akid) is not None
    with node_b.write() as data:
        key = data.key(akid)
        assert key is not None
        data.delete_key(key)
    assert node_a.lookup_access_key(akid) is not None
    clock.advance(3)
    assert node_a.lookup_access_key(akid) is None


def _add_user(ids: IdentityStore, name: str, **fields: object) -> tuple[Entity, str]:
    with ids.write() as data:
        user = Entity(
            kind="user",
            account=ACCOUNT,
            name=name,
            path="/",
            id=new_id("AIDA"),
            created="2024-01-01T00:00:00+00:00",
            **fields,  # type: ignore[arg-type]
        )
        data.put(user)
        key = new_long_term_key(ACCOUNT, name, ids.clock())
        data.put_key(key)
    return user, key.access_key_id


def test_policies_for_collects_inline_attached_group_and_boundary() -> None:
    _, _, ids = _store()
    ids.ensure_account(ACCOUNT, "main")
    doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
    with ids.write() as data:
        group = Entity(
            kind="group",
            account=ACCOUNT,
            name="Devs",
            path="/",
            id=new_id("AGPA"),
            created="2024-01-01T00:00:00+00:00",
            inline={"gp": {"name": "GP", "document": doc}},
            attached=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        )
        data.put(group)
    _, akid = _add_user(
        ids,
        "alice",
        inline={"mine": {"name": "Mine", "document": doc}},
        attached=[ADMIN_ARN],
        groups=["devs"],
        boundary="arn:aws:iam::aws:policy/PowerUserAccess",
    )
    principal = ids.lookup_access_key(akid).principal  # type: ignore[union-attr]
    got = ids.policies_for(principal)
    labels = [label for label, _ in got.identity]
    assert labels == [
        "user/alice/Mine",
        ADMIN_ARN,
        "group/Devs/GP",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ]
    assert got.boundary is not None and got.boundary[0].endswith("PowerUserAccess")


def test_policies_for_is_invalidated_by_writes_in_this_process() -> None:
    _, _, ids = _store()
    _, akid = _add_user(ids, "bob")
    principal = ids.lookup_access_key(akid).principal  # type: ignore[union-attr]
    assert ids.policies_for(principal).identity == ()
    with ids.write() as data:
        found = data.require(ACCOUNT, "user", "bob")
        found.attached.append(ADMIN_ARN)
        data.put(found)
    assert [label for label, _ in ids.policies_for(principal).identity] == [ADMIN_ARN]


def test_policies_for_recreated_user_do_not_leak_to_old_principal() -> None:
    _, _, ids = _store()
    _, akid = _add_user(ids, "carol")
    old = ids.lookup_access_key(akid).principal  # type: ignore[union-attr]
    with ids.write() as data:
        data.delete(data.require(ACCOUNT, "user", "carol"))
    _add_user(ids, "carol", attached=[ADMIN_ARN])
    assert ids.policies_for(old).identity == ()


def test_names_are_case_insensitive_keys() -> None:
    _, _, ids = _store()
    _add_user(ids, "Bob")
    data = ids.read()
    found = data.get(ACCOUNT, "user", "bob")
    assert found is not None and found.name == "Bob"


def _session(ids: IdentityStore, expires_in: int) -> tuple[str, str]:
    now = ids.clock()
    akid = new_id(SESSION_KEY_PREFIX)
    token = "raw-session-token-" + akid
    principal = Principal(
        account_id=ACCOUNT,
        arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/R/s",
        type=PrincipalType.ASSUMED_ROLE,
        principal_id="AROAEXAMPLE:s",
        access_key_id=akid,
        session=SessionContext(
            issuer_arn=f"arn:aws:iam::{ACCOUNT}:role/R",
            issuer_id="AROAEXAMPLE",
            issuer_type="Role",
            session_name="s",
            created=now,
            expires=now + timedelta(seconds=expires_in),
            session_policies=('{"Statement":[]}',),
        ),
    )
    from strongroom.services.sts.sessions import session_record

    ids.save_session(
        session_record(principal, "secret", token, now, now + timedelta(seconds=expires_in))
    )
    return akid, token


def test_session_credentials_round_trip_and_store_only_token_hash() -> None:
    store, _, ids = _store()
    akid, token = _session(ids, 900)
    cred = ids.lookup_access_key(akid)
    assert cred is not None
    assert cred.session_token_sha256 == token_digest(token)
    assert cred.expires is not None
    assert cred.principal.session is not None
    assert cred.principal.session.session_policies == ('{"Statement":[]}',)
    everything = b"".join(store.dump().values()) + "".join(store.dump()).encode()
    assert token.encode() not in everything


def test_purge_expired_sessions() -> None:
    store, clock, ids = _store()
    old, _ = _session(ids, 900)
    fresh, _ = _session(ids, 7200)
    clock.advance(1000)
    assert ids.purge_expired_sessions(clock()) == 1
    assert ids.read().key(old) is None
    assert ids.read().key(fresh) is not None
    assert not [k for k in store.dump() if k.startswith(rec.EXPIRY_PREFIX) and old in k]
    assert ids.purge_expired_sessions(clock()) == 0


def test_works_on_the_sqlite_backend(tmp_path: Path) -> None:
    from strongroom.storage.sqlite import SqliteStore

    clock = FakeClock()
    store = SqliteStore(str(tmp_path / "ids.db"))
    try:
        ids = IdentityStore(store, clock, monotonic=clock.monotonic)
        created = ids.ensure_account(ACCOUNT, "main")
        assert created is not None and ids.ensure_account(ACCOUNT, "main") is None
        cred = ids.lookup_access_key(created[0])
        assert cred is not None and cred.secret_access_key == created[1]
        assert [label for label, _ in ids.policies_for(cred.principal).identity] == [ADMIN_ARN]
        _session(ids, 60)
        clock.advance(61)
        assert ids.purge_expired_sessions(clock()) == 1
    finally:
        store.close()
