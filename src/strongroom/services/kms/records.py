"""KMS key records as stored: one JSON document per key, sealed by the barrier.

Storage layout (keys are paths in the clear; values are sealed)::

    kms/keys/<account>/<region>/<key id>            KeyRecord (metadata, policy, tags,
                                                    rotation, backing keys)
    kms/aliases/<account>/<region>/<alias name>     AliasRecord ("alias/…" keeps its '/')
    kms/grants/<account>/<region>/<key id>/<grant>  GrantRecord
    kms/usage/<account>/<region>/<key id>           last cryptographic use
    kms/due/<kind>/<ISO time>/<account>/<region>/<key id>
                                                    what the background jobs must do and
                                                    when (kind: delete, rotate, expire);
                                                    empty values, ordered by time

A key and its backing keys live in one record so that every change to a key
(rotation, state change, deletion) is one atomic write, and so that deleting
the record destroys the key material with it.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from strongroom.crypto.kms_ciphertext import fingerprint

KEYS = "kms/keys/"
ALIASES = "kms/aliases/"
GRANTS = "kms/grants/"
USAGE = "kms/usage/"
DUE = "kms/due/"
DUE_DELETE = "delete"
DUE_ROTATE = "rotate"
DUE_EXPIRE = "expire"
MRK_PREFIX = "mrk-"


class KeyState(StrEnum):
    CREATING = "Creating"
    ENABLED = "Enabled"
    DISABLED = "Disabled"
    PENDING_DELETION = "PendingDeletion"
    PENDING_IMPORT = "PendingImport"
    PENDING_REPLICA_DELETION = "PendingReplicaDeletion"
    UNAVAILABLE = "Unavailable"
    UPDATING = "Updating"


def new_key_id(multi_region: bool = False) -> str:
    if multi_region:
        return MRK_PREFIX + os.urandom(16).hex()
    return str(uuid.uuid4())


def key_arn(region: str, account: str, key_id: str) -> str:
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def alias_arn(region: str, account: str, alias_name: str) -> str:
    return f"arn:aws:kms:{region}:{account}:{alias_name}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def key_path(account: str, region: str, key_id: str) -> str:
    return f"{KEYS}{account}/{region}/{key_id}"


def alias_path(account: str, region: str, alias_name: str) -> str:
    return f"{ALIASES}{account}/{region}/{alias_name}"


def grant_path(account: str, region: str, key_id: str, grant_id: str) -> str:
    return f"{GRANTS}{account}/{region}/{key_id}/{grant_id}"


def usage_path(account: str, region: str, key_id: str) -> str:
    return f"{USAGE}{account}/{region}/{key_id}"


def due_path(kind: str, when: str, account: str, region: str, key_id: str) -> str:
    """``when`` is :func:`iso` output: fixed width, so the keys sort by time."""
    return f"{DUE}{kind}/{when}/{account}/{region}/{key_id}"


def parse_due_path(path: str) -> tuple[str, str, str, str, str]:
    """(kind, when, account, region, key id) of a :func:`due_path`."""
    kind, when, account, region, key_id = path[len(DUE) :].split("/")
    return kind, when, account, region, key_id


@dataclass
class Material:
    """One backing key (AWS: key material) of a KMS key.

    ``secret`` is the base64 of the raw material: 32 bytes for symmetric
    keys, the PKCS#8 DER private key for asymmetric ones, the HMAC key for
    HMAC keys. It is stored only inside the sealed key record.
    """

    id: str  # KeyMaterialId: 64 lowercase hex
    secret: str | None  # None while an imported key waits for its material
    created: str
    rotation_type: str | None = None  # None for the first material; AUTOMATIC / ON_DEMAND
    rotated: str | None = None  # when it became current by rotation
    # Imported material (Origin EXTERNAL)
    imported: bool = False
    valid_to: str | None = None
    expiration_model: str | None = None
    description: str | None = None
    # Imported material: its fingerprint, so a re-import can be checked after deletion.
    fingerprint: str | None = None

    def remember(self, raw: bytes) -> None:
        self.fingerprint = fingerprint(raw)

    def fingerprint_mismatch(self, raw: bytes) -> bool:
        return self.fingerprint is not None and self.fingerprint != fingerprint(raw)

    def raw(self) -> bytes:
        if self.secret is None:
            raise ValueError("key material not present")
        return base64.b64decode(self.secret)

    @staticmethod
    def encode(raw: bytes) -> str:
        return base64.b64encode(raw).decode()


@dataclass
class KeyRecord:
    account: str
    region: str
    key_id: str
    created: str
    key_spec: str = "SYMMETRIC_DEFAULT"
    key_usage: str = "ENCRYPT_DECRYPT"
    origin: str = "AWS_KMS"
    state: str = KeyState.ENABLED.value
    description: str = ""
    policy: str = ""
    manager: str = "CUSTOMER"  # AWS for AWS managed keys
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    # Backing keys, oldest first; the last one with a secret is current.
    materials: list[Material] = field(default_factory=list)
    # Deletion
    deletion_date: str | None = None
    pending_window_days: int | None = None
    # Rotation
    rotation_enabled: bool = False
    rotation_period_days: int | None = None
    next_rotation: str | None = None
    on_demand_rotation_start: str | None = None
    on_demand_rotations: int = 0
    # Multi-Region
    multi_region: bool = False
    primary_region: str | None = None
    replica_regions: list[str] = field(default_factory=list)
    # Imported material (EXTERNAL origin): the key-level expiry AWS reports.
    valid_to: str | None = None
    expiration_model: str | None = None

    @property
    def arn(self) -> str:
        return key_arn(self.region, self.account, self.key_id)

    @property
    def path(self) -> str:
        return key_path(self.account, self.region, self.key_id)

    @property
    def state_enum(self) -> KeyState:
        return KeyState(self.state)

    @property
    def is_primary(self) -> bool:
        return self.multi_region and self.primary_region == self.region

    def current_material(self) -> Material | None:
        """The newest backing key that has material and is not waiting to be rotated in."""
        for material in reversed(self.materials):
            if material.secret is not None and material.rotation_type != "PENDING_ROTATION":
                return material
        return None

    def material(self, material_id: str) -> Material | None:
        for material in self.materials:
            if material.id == material_id:
                return material
        return None

    def dumps(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def loads(cls, raw: bytes) -> KeyRecord:
        data: dict[str, Any] = json.loads(raw)
        data["materials"] = [Material(**m) for m in data.get("materials", [])]
        return cls(**data)


@dataclass
class AliasRecord:
    account: str
    region: str
    name: str  # "alias/…"
    target: str  # key id
    created: str
    updated: str

    @property
    def arn(self) -> str:
        return alias_arn(self.region, self.account, self.name)

    def dumps(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def loads(cls, raw: bytes) -> AliasRecord:
        return cls(**json.loads(raw))


@dataclass
class GrantRecord:
    account: str
    region: str
    key_id: str
    grant_id: str
    created: str
    issuing_account: str
    grantee: str
    operations: list[str]
    name: str | None = None
    retiring: str | None = None
    # {"EncryptionContextSubset": {...}} or {"EncryptionContextEquals": {...}}
    constraints: dict[str, dict[str, str]] = field(default_factory=dict)

    def dumps(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def loads(cls, raw: bytes) -> GrantRecord:
        return cls(**json.loads(raw))
