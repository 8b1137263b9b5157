"""Secret records as stored.

Storage layout (keys are in the clear, values are sealed by the barrier)::

    secretsmanager/<account>/<region>/secret/<name>       SecretRecord: metadata, stages,
                                                          policy, tags, rotation, replicas
    secretsmanager/<account>/<region>/value/<uid>/<vid>   VersionValue: the KMS-encrypted
                                                          data key and the sealed value
                                                          (strongroom.crypto.envelope)
    secretsmanager/due/<kind>/<time>/<account>/<region>/<uid>
                                                          when a background job must act
                                                          (kind: purge, rotate); the value is
                                                          the secret's name

Values live apart from the metadata so the record stays small however many
versions exist, and because a version is immutable: the hot path may cache
its ciphertext for as long as it likes. Secret names may contain '/', which
is why values are keyed by the secret's random ``uid`` and not by its name.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

ROOT = "secretsmanager/"
DUE = "secretsmanager/due/"
DUE_PURGE = "purge"
DUE_ROTATE = "rotate"

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
PREVIOUS = "AWSPREVIOUS"

_SUFFIX_ALPHABET = string.ascii_letters + string.digits


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


# The last day_of answer: every GetSecretValue asks, and the conversions
# cost more than the rest of noting the access.
_last_day: tuple[date, str] | None = None


def day_of(moment: datetime) -> str:
    """AWS keeps LastAccessedDate to the day: midnight UTC of ``moment``."""
    global _last_day
    day = (moment if moment.tzinfo is UTC else moment.astimezone(UTC)).date()
    last = _last_day
    if last is not None and last[0] == day:
        return last[1]
    text = iso(datetime(day.year, day.month, day.day, tzinfo=UTC))
    _last_day = (day, text)
    return text


def due_stamp(moment: datetime) -> str:
    """A fixed-width UTC time that sorts as text in time order."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def new_suffix() -> str:
    """The six random characters AWS appends to a secret's name in its ARN."""
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(6))


def new_version_id() -> str:
    return str(uuid.uuid4())


def secret_arn(region: str, account: str, name: str, suffix: str) -> str:
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix}"


def partial_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}"


def secret_path(account: str, region: str, name: str) -> str:
    return f"{ROOT}{account}/{region}/secret/{name}"


def secrets_prefix(account: str, region: str) -> str:
    return f"{ROOT}{account}/{region}/secret/"


def value_path(account: str, region: str, uid: str, version_id: str) -> str:
    return f"{ROOT}{account}/{region}/value/{uid}/{version_id}"


def values_prefix(account: str, region: str, uid: str) -> str:
    return f"{ROOT}{account}/{region}/value/{uid}/"


def due_path(kind: str, when: str, account: str, region: str, uid: str) -> str:
    return f"{DUE}{kind}/{when}/{account}/{region}/{uid}"


@dataclass
class VersionInfo:
    """A version's metadata (its value is a separate VersionValue)."""

    version_id: str
    created: str
    stages: list[str] = field(default_factory=list)
    kms_key_ids: list[str] = field(default_factory=list)
    last_accessed: str | None = None  # a date: AWS records access per day
    # False for the AWSPENDING placeholder a rotation starts with: AWS creates
    # the version before createSecret puts its value (PutSecretValue fills it).
    has_value: bool = True


@dataclass
class VersionValue:
    """One version's secret value, as stored: never any plaintext.

    ``data_key`` is the KMS ciphertext of a fresh 256-bit data key (encryption
    context {"SecretARN", "SecretVersionId"}); ``sealed`` is the value sealed
    under that data key by :func:`strongroom.crypto.envelope.seal`, a blob
    that carries its own format version, nonce and tag.
    """

    kms_key_arn: str
    data_key: bytes
    sealed: bytes
    binary: bool

    def dumps(self) -> bytes:
        return json.dumps(
            {
                "k": self.kms_key_arn,
                "dk": base64.b64encode(self.data_key).decode(),
                "s": base64.b64encode(self.sealed).decode(),
                "b": self.binary,
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def loads(cls, raw: bytes) -> VersionValue:
        data = json.loads(raw)
        return cls(
            kms_key_arn=data["k"],
            data_key=base64.b64decode(data["dk"]),
            sealed=base64.b64decode(data["s"]),
            binary=bool(data["b"]),
        )


@dataclass
class SecretRecord:
    account: str
    region: str
    name: str
    uid: str
    suffix: str
    created: str
    last_changed: str
    description: str | None = None
    # As DescribeSecret shows it: None for the AWS managed key aws/secretsmanager.
    kms_key_id: str | None = None
    secret_type: str | None = None
    tags: list[dict[str, str]] = field(default_factory=list)
    # In creation order (dicts keep insertion order through JSON).
    versions: dict[str, VersionInfo] = field(default_factory=dict)
    policy: str | None = None
    last_accessed: str | None = None
    # Scheduled deletion: when DeleteSecret was called, and when the purge is due.
    deleted_at: str | None = None
    purge_at: str | None = None
    # Rotation. rotation_enabled is None until rotation was ever configured.
    rotation_enabled: bool | None = None
    rotation_lambda_arn: str | None = None
    rotation_rules: dict[str, Any] | None = None
    external_rotation_metadata: list[dict[str, str]] | None = None
    external_rotation_role_arn: str | None = None
    last_rotated: str | None = None
    next_rotation: str | None = None  # NextRotationDate: the end of the next window
    rotation_due: str | None = None  # when the job should start the next rotation
    rotation_token: str | None = None  # the version an unfinished rotation creates
    rotation_failures: int = 0
    # Replication: set on a primary (regional replicas), or on a replica.
    primary_region: str | None = None
    replicas: list[dict[str, Any]] = field(default_factory=list)
    cross_account_primary: dict[str, Any] | None = None
    cross_account_replicas: list[dict[str, Any]] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return secret_arn(self.region, self.account, self.name, self.suffix)

    @property
    def path(self) -> str:
        return secret_path(self.account, self.region, self.name)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_replica(self) -> bool:
        """A regional replica: read-only, changed only through its primary."""
        return self.primary_region is not None and self.primary_region != self.region

    def stage_map(self) -> dict[str, str]:
        """Staging label -> version id."""
        return {stage: vid for vid, v in self.versions.items() for stage in v.stages}

    def version_for_stage(self, stage: str) -> str | None:
        for vid, version in self.versions.items():
            if stage in version.stages:
                return vid
        return None

    def tag_dict(self) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.tags}

    def dumps(self) -> bytes:
        data = asdict(self)
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def loads(cls, raw: bytes) -> SecretRecord:
        data = json.loads(raw)
        data["versions"] = {k: VersionInfo(**v) for k, v in data.get("versions", {}).items()}
        return cls(**data)
