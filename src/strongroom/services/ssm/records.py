"""Parameter records as stored (JSON, sealed by the barrier like every value).

Storage layout (keys are paths in the clear; parameter names are not secret,
values are sealed and a SecureString's value is KMS ciphertext inside that)::

    ssm/<account>/<region>/param/<name>             Parameter: metadata, labels, tags,
                                                    resource policies and a copy of the
                                                    current version (one read serves
                                                    GetParameter)
    ssm/<account>/<region>/version/<name>#<version> Version, every retained version
                                                    (names cannot contain '#')
    ssm/<account>/<region>/counts                   parameters per tier (the quotas)
    ssm/<account>/<region>/setting/<setting id>     a customized service setting
    ssm/due/<ISO time>/<id>                         a parameter policy to act on then
    ssm/shared/<consumer>/<region>/<owner>/<name>   a parameter shared with <consumer>
                                                    by a resource policy (Shared=true)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

ROOT = "ssm/"
DUE = "ssm/due/"
SHARED = "ssm/shared/"

STANDARD = "Standard"
ADVANCED = "Advanced"
INTELLIGENT = "Intelligent-Tiering"
SECURE = "SecureString"

# How a SecureString version's value was encrypted.
ENC_KMS = "kms"  # KMS Encrypt of the value (standard tier, as AWS does)
ENC_ENVELOPE = "envelope"  # KMS GenerateDataKey + local AES-256-GCM (advanced tier)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def scope(account: str, region: str) -> str:
    return f"{ROOT}{account}/{region}/"


def param_prefix(account: str, region: str) -> str:
    return f"{scope(account, region)}param/"


def param_path(account: str, region: str, name: str) -> str:
    return param_prefix(account, region) + name


def version_prefix(account: str, region: str, name: str) -> str:
    return f"{scope(account, region)}version/{name}#"


def version_path(account: str, region: str, name: str, version: int) -> str:
    return f"{version_prefix(account, region, name)}{version:010d}"


def counts_path(account: str, region: str) -> str:
    return f"{scope(account, region)}counts"


def setting_path(account: str, region: str, setting_id: str) -> str:
    return f"{scope(account, region)}setting{setting_id}"


def shared_prefix(consumer: str, region: str) -> str:
    return f"{SHARED}{consumer}/{region}/"


def shared_path(consumer: str, region: str, owner: str, name: str) -> str:
    return f"{shared_prefix(consumer, region)}{owner}/{name}"


@dataclass
class Version:
    """One version of a parameter, as GetParameterHistory shows it."""

    version: int
    type: str
    modified: str  # ISO time
    user: str  # ARN of the principal that wrote it
    tier: str
    data_type: str = "text"
    value: str | None = None  # String / StringList values
    sealed: str | None = None  # SecureString: base64 ciphertext (see crypto.py)
    enc: str | None = None  # ENC_KMS or ENC_ENVELOPE
    key_id: str | None = None  # the KeyId as the user named it (shown by Describe)
    key_arn: str | None = None  # the key KMS actually used
    description: str | None = None
    allowed_pattern: str | None = None
    # [{"PolicyText", "PolicyType", "PolicyStatus"}], AWS's ParameterInlinePolicy
    policies: list[dict[str, str]] = field(default_factory=list)

    @property
    def modified_at(self) -> datetime:
        return parse_iso(self.modified)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != []}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Version:
        return cls(**data)

    def dumps(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def loads(cls, raw: bytes) -> Version:
        return cls.from_dict(json.loads(raw))


@dataclass
class Parameter:
    account: str
    region: str
    name: str
    current: Version
    created: str
    versions: list[int] = field(default_factory=list)  # retained, ascending
    labels: dict[str, int] = field(default_factory=dict)  # label -> version
    tags: dict[str, str] = field(default_factory=dict)
    # [{"PolicyId", "PolicyHash", "Policy"}] (PutResourcePolicy)
    resource_policies: list[dict[str, str]] = field(default_factory=list)
    # Keys of this parameter's ssm/due/ entries, so a change can retract them.
    due: list[str] = field(default_factory=list)
    # Accounts named by the resource policies (index entries under ssm/shared/).
    shared_with: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return param_path(self.account, self.region, self.name)

    def labels_of(self, version: int) -> list[str]:
        return sorted(label for label, v in self.labels.items() if v == version)

    def dumps(self) -> bytes:
        data = asdict(self)
        data["current"] = self.current.to_dict()
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def loads(cls, raw: bytes) -> Parameter:
        data = json.loads(raw)
        data["current"] = Version.from_dict(data["current"])
        return cls(**data)
