"""Registered rotators: what a secret's RotationLambdaARN names.

In AWS a rotation function is a Lambda function. Strongroom has no Lambda;
an operator registers a rotator under a name (``strongroom rotators add``)
and secrets refer to it by the ARN a Lambda function of that name would
have, ``arn:aws:lambda:REGION:ACCOUNT:function:NAME``, so the same
RotateSecret calls work against AWS and Strongroom.

Stored at ``rotators/<account>/<region>/<name>`` (sealed by the barrier like
every value: an HTTP rotator's HMAC key is a secret).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from strongroom.storage.base import Store

PREFIX = "rotators/"
TYPES = (
    "postgres-single",
    "postgres-alternating",
    "mysql-single",
    "mysql-alternating",
    "http",
    "python",
)
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # fullmatch: "$" would admit a trailing newline
_ARN_RE = re.compile(
    r"^arn:aws:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:(?P<name>[A-Za-z0-9_-]{1,64})"
    r"(?::[A-Za-z0-9$_-]+)?$"
)


@dataclass
class RotatorRecord:
    name: str
    account: str
    region: str
    type: str
    created: str
    # Type-specific settings: url/hmac_key/timeout (http), entry_point (python),
    # connect_timeout and exclude_characters (databases).
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return rotator_arn(self.region, self.account, self.name)

    def dumps(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def loads(cls, raw: bytes) -> RotatorRecord:
        return cls(**json.loads(raw))

    def public(self) -> dict[str, Any]:
        """What listing shows: never the HMAC key."""
        shown = {k: v for k, v in self.config.items() if k != "hmac_key"}
        return {
            "Name": self.name,
            "Arn": self.arn,
            "Type": self.type,
            "Created": self.created,
            "Config": shown,
        }


def rotator_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def parse_arn(arn: str) -> tuple[str, str, str] | None:
    """(account, region, name) of a Lambda function ARN, or None."""
    match = _ARN_RE.match(arn)
    if match is None:
        return None
    return match["account"], match["region"], match["name"]


def _path(account: str, region: str, name: str) -> str:
    return f"{PREFIX}{account}/{region}/{name}"


class RotatorRegistry:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, account: str, region: str, name: str) -> RotatorRecord | None:
        raw = self.store.get(_path(account, region, name))
        return None if raw is None else RotatorRecord.loads(raw)

    def by_arn(self, arn: str) -> RotatorRecord | None:
        parts = parse_arn(arn)
        return None if parts is None else self.get(*parts)

    def put(self, record: RotatorRecord) -> None:
        if not NAME_RE.fullmatch(record.name):
            raise ValueError("a rotator name is 1 to 64 letters, digits, '-' or '_'")
        if record.type not in TYPES:
            raise ValueError(f"unknown rotator type {record.type!r}")
        self.store.put(_path(record.account, record.region, record.name), record.dumps())

    def delete(self, account: str, region: str, name: str) -> bool:
        return self.store.delete(_path(account, region, name))

    def list(self, account: str | None = None) -> list[RotatorRecord]:
        prefix = PREFIX if account is None else f"{PREFIX}{account}/"
        return [RotatorRecord.loads(v) for _, v in self.store.iter_scan(prefix)]
