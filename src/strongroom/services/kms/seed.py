"""Declarative seeding: make the store hold the keys and aliases a seed file
declares, idempotently (docs/design/kms-seeding.md).

The whole seed is applied in one store transaction: either every key and
alias matches the file afterwards, or nothing changed and :class:`SeedError`
says why. Rules:

* A key that does not exist is created with the file's id, spec, material
  (or freshly generated material, kept from then on), state, rotation,
  policy, tags and aliases.
* An existing key is brought in line with the file for what may change
  (description, enabled, rotation, policy, tags, aliases). Its spec, usage,
  origin and key material never change: a file whose material differs from
  the stored material is refused, never applied. Backing keys may only be
  *appended* (the file lists the stored ones first), which is a rotation.
* Aliases the file declares are created or re-pointed. Aliases an earlier
  run of the same file declared and this one does not are deleted; aliases
  made through the API are left alone.

Seeded material ids are derived from the account, key id and material, so
the same file gives the same ``KeyMaterialId`` everywhere, and a ciphertext
made by one Strongroom decrypts in any other seeded from the same file.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from strongroom.crypto.kms_ciphertext import fingerprint
from strongroom.errors import ServiceError
from strongroom.services.kms import records as rec
from strongroom.services.kms.keys import new_material
from strongroom.services.kms.policies import default_key_policy
from strongroom.services.kms.records import AliasRecord, KeyRecord, KeyState, Material
from strongroom.services.kms.repository import KmsRepository, KmsTxn
from strongroom.services.kms.seed_fields import SeedError
from strongroom.services.kms.seed_schema import SeedFile, SeedKey, parse_seed

if TYPE_CHECKING:
    from strongroom.platform import Platform

# Which aliases each seed file created, so a later run can delete the ones it
# no longer declares: {source path: ["account/region/alias/name", …]}.
SEED_STATE = "kms/seed/state"
_NO_EXPIRY = "KEY_MATERIAL_DOES_NOT_EXPIRE"
_SETTLED = (KeyState.ENABLED.value, KeyState.DISABLED.value)


@dataclass
class SeedResult:
    created: list[str] = field(default_factory=list)  # key ARNs
    updated: dict[str, list[str]] = field(default_factory=dict)  # key ARN -> what changed
    unchanged: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)  # "created alias/x -> id", …
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.aliases)


def seed_material_id(account: str, key_id: str, raw: bytes) -> str:
    """The KeyMaterialId of seeded material: one-way, and the same on every server."""
    return fingerprint(f"seed-material-id|{account}/{key_id}|".encode() + raw)


def load_seed_file(path: Path, *, default_account: str, default_region: str) -> SeedFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError([f"{path}: cannot read the seed file: {exc}"]) from None
    return parse_seed(
        text, str(path), default_account=default_account, default_region=default_region
    )


def seed_platform(platform: Platform, path: Path) -> SeedResult:
    """Validate and apply the seed file at ``path`` to ``platform``'s store."""
    settings = platform.settings
    seed = load_seed_file(
        path, default_account=settings.default_account_id, default_region=settings.region
    )
    # The KMS service's own repository when there is one, so its cache is
    # cleared by the write; otherwise (admin commands) a fresh one.
    service_repo = getattr(platform.services.get("kms"), "repo", None)
    repo = (
        service_repo if isinstance(service_repo, KmsRepository) else KmsRepository(platform.store)
    )
    result = apply_seed(repo, seed, platform.clock(), state_name=str(path.resolve()))
    known = {row["AccountId"] for row in platform.identities.list_accounts()}
    for account in sorted({k.account for k in seed.keys} - known):
        result.warnings.append(
            f"account {account} does not exist: its keys are usable only by principals "
            "of other accounts that its key policies allow (strongroom accounts create)"
        )
    return result


def apply_seed(
    repo: KmsRepository, seed: SeedFile, now: datetime, *, state_name: str | None = None
) -> SeedResult:
    result = SeedResult()
    problems: list[str] = []
    with repo.write() as txn:
        work = _Workspace(txn)
        for key in seed.keys:
            try:
                _apply_key(work, key, now, result)
            except _Conflict as exc:
                line = exc.line if exc.line is not None else key.line
                problems.append(f"{seed.source}:{line}: key {key.key_id}: {exc}")
        if not problems:
            problems += _apply_aliases(work, seed, now, result, state_name or seed.source)
        if problems:
            raise SeedError(problems)  # rolls the transaction back
        work.save(result)
    return result


class _Conflict(Exception):
    """What the file asks for contradicts the stored key."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class _Workspace:
    """The key records touched by this seed, loaded once, saved once."""

    def __init__(self, txn: KmsTxn) -> None:
        self.txn = txn
        self._records: dict[tuple[str, str, str], KeyRecord | None] = {}
        self._original: dict[tuple[str, str, str], bytes] = {}
        self.seeded: set[str] = set()  # ARNs of the keys the file declares
        self.alias_changes: set[str] = set()  # ARNs whose alias list changed

    def key(self, account: str, region: str, key_id: str) -> KeyRecord | None:
        slot = (account, region, key_id)
        if slot not in self._records:
            record = self.txn.key(account, region, key_id)
            self._records[slot] = record
            if record is not None:
                self._original[slot] = record.dumps()
        return self._records[slot]

    def add(self, record: KeyRecord) -> None:
        self._records[(record.account, record.region, record.key_id)] = record

    def save(self, result: SeedResult) -> None:
        """Write what changed; sort the keys into updated and unchanged."""
        for slot, record in self._records.items():
            if record is None:
                continue
            before = self._original.get(slot)
            if before is None:
                self.txn.put_key(record)
            elif record.dumps() != before:
                self.txn.put_key(record)
                changes = result.updated.setdefault(record.arn, [])
                if record.arn in self.alias_changes:
                    changes.append("aliases")
            elif record.arn in self.seeded:
                result.unchanged.append(record.arn)


def _new_material(key: SeedKey, raw: bytes, index: int, now: str) -> Material:
    material = Material(
        id=seed_material_id(key.account, key.key_id, raw),
        secret=Material.encode(raw),
        created=now,
    )
    if index > 0:  # simulated rotation history: AWS reports these as rotations
        material.rotation_type = "ON_DEMAND"
        material.rotated = now
    if key.origin == "EXTERNAL":
        material.imported = True
        material.expiration_model = _NO_EXPIRY
        material.remember(raw)
    return material


def _same(material: Material, raw: bytes) -> bool:
    if material.secret is not None:
        return hmac.compare_digest(material.raw(), raw)
    return material.fingerprint is not None and not material.fingerprint_mismatch(raw)


def _apply_key(work: _Workspace, key: SeedKey, now: datetime, result: SeedResult) -> None:
    record = work.key(*key.where)
    stamp = rec.iso(now)
    new = record is None
    if record is None:
        record = KeyRecord(
            account=key.account,
            region=key.region,
            key_id=key.key_id,
            created=stamp,
            key_spec=key.key_spec,
            key_usage=key.key_usage,
            origin=key.origin,
            multi_region=key.multi_region,
            primary_region=key.region if key.multi_region else None,
            state=KeyState.PENDING_IMPORT.value,
        )
        if not key.materials and key.origin == "AWS_KMS":
            try:
                record.materials.append(new_material(key.key_spec, stamp))
            except ServiceError as exc:
                raise _Conflict(exc.message) from None
        work.add(record)
        result.created.append(record.arn)
    else:
        _check_fixed(record, key)
    work.seeded.add(record.arn)
    changes: list[str] = []
    _apply_materials(record, key, stamp, changes, new)
    _apply_settings(work.txn, record, key, now, changes, result)
    if changes and not new:
        result.updated[record.arn] = changes


def _check_fixed(record: KeyRecord, key: SeedKey) -> None:
    if record.manager != "CUSTOMER":
        raise _Conflict("an AWS managed key cannot be seeded")
    for name, stored, wanted in (
        ("key_spec", record.key_spec, key.key_spec),
        ("key_usage", record.key_usage, key.key_usage),
        ("origin", record.origin, key.origin),
    ):
        if stored != wanted:
            raise _Conflict(
                f"{name} is {stored} in the store and {wanted} in the seed file; it cannot "
                "change (schedule the key's deletion, or seed another key id)"
            )
    if record.multi_region and not record.is_primary:
        raise _Conflict("this is a replica of a multi-Region key: seed its primary instead")


def _apply_materials(
    record: KeyRecord, key: SeedKey, stamp: str, changes: list[str], new: bool
) -> None:
    for index, raw in enumerate(key.materials):
        if index < len(record.materials):
            if not _same(record.materials[index], raw):
                raise _Conflict(
                    f"material[{index}] differs from the key material in the store. "
                    "Strongroom never replaces key material (ciphertexts would become "
                    "undecryptable); restore the original material in the file, append new "
                    "backing keys after the stored ones, or seed another key id",
                    key.material_lines[index] if index < len(key.material_lines) else None,
                )
            continue
        if index > 0 and record.key_spec != "SYMMETRIC_DEFAULT":  # pragma: no cover - schema
            raise _Conflict("only symmetric keys take several backing keys")
        record.materials.append(_new_material(key, raw, index, stamp))
        if index > 0:
            changes.append(f"rotated to backing key {index}")
        elif not new:
            changes.append("key material imported")


def _apply_settings(
    txn: KmsTxn,
    record: KeyRecord,
    key: SeedKey,
    now: datetime,
    changes: list[str],
    result: SeedResult,
) -> None:
    if record.description != key.description:
        record.description = key.description
        changes.append("description")
    policy = key.policy if key.policy is not None else default_key_policy(record.account)
    if record.policy != policy:
        record.policy = policy
        changes.append("policy")
    if record.tags != key.tags:
        record.tags = dict(key.tags)
        changes.append("tags")
    if record.origin == "EXTERNAL" and record.current_material() is not None:
        record.expiration_model = record.expiration_model or _NO_EXPIRY
    wanted = KeyState.ENABLED.value if key.enabled else KeyState.DISABLED.value
    has_material = record.current_material() is not None
    if record.state in _SETTLED or (record.state == KeyState.PENDING_IMPORT.value and has_material):
        if record.state != wanted:
            if record.state in _SETTLED:
                changes.append("enabled" if key.enabled else "disabled")
            record.state = wanted
    elif record.state != KeyState.PENDING_IMPORT.value:
        result.warnings.append(
            f"{record.arn} is {record.state}: its state was left as it is "
            "(cancel the deletion to seed it again)"
        )
    _apply_rotation(txn, record, key, now, changes)


def _apply_rotation(
    txn: KmsTxn, record: KeyRecord, key: SeedKey, now: datetime, changes: list[str]
) -> None:
    if key.rotation_enabled:
        if record.rotation_enabled and record.rotation_period_days == key.rotation_period_days:
            return
        txn.delete_due(rec.DUE_ROTATE, record.next_rotation, record)
        record.rotation_enabled = True
        record.rotation_period_days = key.rotation_period_days
        record.next_rotation = rec.iso(now + timedelta(days=key.rotation_period_days))
        txn.put_due(rec.DUE_ROTATE, record.next_rotation, record)
        changes.append(f"rotation every {key.rotation_period_days} days")
    elif record.rotation_enabled:
        txn.delete_due(rec.DUE_ROTATE, record.next_rotation, record)
        record.rotation_enabled = False
        record.next_rotation = None
        changes.append("rotation disabled")


def _apply_aliases(
    work: _Workspace, seed: SeedFile, now: datetime, result: SeedResult, state_name: str
) -> list[str]:
    problems: list[str] = []
    stamp = rec.iso(now)
    wanted: dict[tuple[str, str, str], str] = {}
    for alias in seed.aliases:
        slot = (alias.account, alias.region, alias.name)
        if slot in wanted:
            continue
        wanted[slot] = alias.target
        target = work.key(alias.account, alias.region, alias.target)
        if target is None or target.manager != "CUSTOMER":
            problems.append(
                f"{seed.source}:{alias.line}: {alias.name} targets key {alias.target}, which "
                f"is not a customer managed key of {alias.account} in {alias.region}"
            )
            continue
        _point(work, slot, target, stamp, result)
    raw_state = work.txn.txn.get(SEED_STATE)
    state: dict[str, list[str]] = json.loads(raw_state) if raw_state else {}
    names = sorted("/".join(slot) for slot in wanted)
    for old in state.get(state_name, []):
        account, region, name = old.split("/", 2)
        if (account, region, name) not in wanted:
            _unpoint(work, account, region, name, result)
    if state.get(state_name, []) != names:
        state[state_name] = names
        work.txn.txn.put(SEED_STATE, json.dumps(state, sort_keys=True).encode())
    return problems


def _point(
    work: _Workspace,
    slot: tuple[str, str, str],
    target: KeyRecord,
    stamp: str,
    result: SeedResult,
) -> None:
    account, region, name = slot
    existing = work.txn.alias(account, region, name)
    if existing is None:
        work.txn.put_alias(AliasRecord(account, region, name, target.key_id, stamp, stamp))
        result.aliases.append(f"created {name} -> {target.key_id}")
        work.alias_changes.add(target.arn)
    elif existing.target != target.key_id:
        previous = work.key(account, region, existing.target)
        if previous is not None and name in previous.aliases:
            previous.aliases.remove(name)
            work.alias_changes.add(previous.arn)
        existing.target = target.key_id
        existing.updated = stamp
        work.txn.put_alias(existing)
        result.aliases.append(f"re-pointed {name} -> {target.key_id}")
        work.alias_changes.add(target.arn)
    if name not in target.aliases:
        target.aliases.append(name)


def _unpoint(work: _Workspace, account: str, region: str, name: str, result: SeedResult) -> None:
    existing = work.txn.alias(account, region, name)
    if existing is None:
        return
    work.txn.delete_alias(account, region, name)
    key = work.key(account, region, existing.target)
    if key is not None and name in key.aliases:
        key.aliases.remove(name)
        work.alias_changes.add(key.arn)
    result.aliases.append(f"deleted {name} (no longer in the seed file)")
