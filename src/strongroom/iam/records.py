"""IAM records as stored, and the storage key layout.

Key layout (all values are compact JSON, encrypted by the barrier below the
Store). IAM names are unique case-insensitively ("Bob" and "bob" conflict),
so every name in a key is lower-cased; records keep the display name.

    accounts/<acct>                                   account {id, name, created}
    iam/<acct>/user/<name>                            Entity(kind="user")
    iam/<acct>/group/<name>                           Entity(kind="group")
    iam/<acct>/role/<name>                            Entity(kind="role")
    iam/<acct>/policy/<name>                          ManagedPolicy (customer managed)
    iam/<acct>/member/<group>/<user>                  group membership (GetGroup lists it)
    iam/<acct>/attach/<ref>/<P|B>/<kind>/<name>       who uses a managed policy, as a
                                                      permissions policy (P) or boundary (B);
                                                      <ref> is "aws.<Name>" or "local.<name>"
    iam/<acct>/keys/<user>/<AKID>                     a user's access keys (root's: empty <user>)
    iam/<acct>/rolelastused/<role>                    {date, region}: written on AssumeRole,
                                                      kept apart so it never rewrites the role
    auth/akid/<AKID>                                  KeyRecord: user, root and STS session keys
    auth/expiry/<expires ISO>/<AKID>                  STS sessions by expiry, for purging
    auth/lastused/<AKID>                              {date, service, region}

Inline policies, attached-policy ARNs, tags and (for users) group names live
inside the entity record: one read gives everything ``policies_for`` needs.
AWS managed policies are built in (``aws_managed.py``), never stored; their
attachment counts are per account here, derived from the ``attach`` index.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("user", "group", "role")
PERMISSIONS = "P"
BOUNDARY = "B"
AWS_ACCOUNT = "aws"


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")


def loads(raw: bytes) -> Any:
    return json.loads(raw.decode("utf-8"))


@dataclass
class Entity:
    """A user, group or role: the three IAM identities share one shape."""

    kind: str
    account: str
    name: str
    path: str
    id: str
    created: str
    # lower-cased policy name -> {"name": display name, "document": JSON text as given}
    inline: dict[str, dict[str, str]] = field(default_factory=dict)
    attached: list[str] = field(default_factory=list)  # managed policy ARNs, attach order
    tags: list[dict[str, str]] = field(default_factory=list)  # [{"Key", "Value"}]
    boundary: str | None = None  # permissions boundary policy ARN (users, roles)
    groups: list[str] = field(default_factory=list)  # users: lower-cased group names
    trust: str | None = None  # roles: AssumeRolePolicyDocument as given
    description: str | None = None  # roles
    max_session: int = 3600  # roles: MaxSessionDuration

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:{self.kind}{self.path}{self.name}"

    @property
    def key(self) -> str:
        return entity_key(self.account, self.kind, self.name)

    def to_bytes(self) -> bytes:
        return dumps(asdict(self))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Entity:
        return cls(**loads(raw))


@dataclass
class ManagedPolicy:
    account: str  # "aws" for AWS managed policies
    name: str
    path: str
    id: str
    created: str
    updated: str
    description: str | None = None
    default_version: str = "v1"
    # "v1" -> {"document": JSON text as given, "created": ISO}
    versions: dict[str, dict[str, str]] = field(default_factory=dict)
    next_version: int = 2
    tags: list[dict[str, str]] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:policy{self.path}{self.name}"

    @property
    def is_aws_managed(self) -> bool:
        return self.account == AWS_ACCOUNT

    @property
    def ref(self) -> str:
        """The policy's segment in ``attach`` index keys."""
        return f"aws.{self.name}" if self.is_aws_managed else f"local.{self.name.lower()}"

    def default_document(self) -> str:
        return self.versions[self.default_version]["document"]

    def to_bytes(self) -> bytes:
        return dumps(asdict(self))

    @classmethod
    def from_bytes(cls, raw: bytes) -> ManagedPolicy:
        return cls(**loads(raw))


@dataclass
class KeyRecord:
    """A credential as stored: one record per access key id, of any kind."""

    access_key_id: str
    secret: str
    account: str
    kind: str  # "user" | "root" | "session"
    created: str
    status: str = "Active"  # "Active" | "Inactive"
    user: str | None = None  # kind "user": lower-cased user name
    expires: str | None = None  # sessions: ISO expiry
    token_sha256: str | None = None  # sessions: hex SHA-256 of the session token
    session: dict[str, Any] | None = None  # sessions: the serialized principal
    # sessions: session tag keys that pass on to role-chained sessions
    transitive_tag_keys: list[str] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        return dumps(asdict(self))

    @classmethod
    def from_bytes(cls, raw: bytes) -> KeyRecord:
        return cls(**loads(raw))


# -- keys ------------------------------------------------------------------


def account_key(account: str) -> str:
    return f"accounts/{account}"


def entity_prefix(account: str, kind: str) -> str:
    return f"iam/{account}/{kind}/"


def entity_key(account: str, kind: str, name: str) -> str:
    return f"iam/{account}/{kind}/{name.lower()}"


def policy_prefix(account: str) -> str:
    return f"iam/{account}/policy/"


def policy_key(account: str, name: str) -> str:
    return f"iam/{account}/policy/{name.lower()}"


def member_prefix(account: str, group: str) -> str:
    return f"iam/{account}/member/{group.lower()}/"


def member_key(account: str, group: str, user: str) -> str:
    return f"iam/{account}/member/{group.lower()}/{user.lower()}"


def attach_prefix(account: str, ref: str, usage: str | None = None) -> str:
    base = f"iam/{account}/attach/{ref}/"
    return base if usage is None else f"{base}{usage}/"


def attach_key(account: str, ref: str, usage: str, kind: str, name: str) -> str:
    return f"iam/{account}/attach/{ref}/{usage}/{kind}/{name.lower()}"


def keys_prefix(account: str, user: str | None) -> str:
    # Root's keys use the empty segment: every IAM name has at least one
    # character, so no user can collide with it.
    owner = "" if user is None else user.lower()
    return f"iam/{account}/keys/{owner}/"


def role_last_used_key(account: str, role: str) -> str:
    return f"iam/{account}/rolelastused/{role.lower()}"


def akid_key(access_key_id: str) -> str:
    return f"auth/akid/{access_key_id}"


EXPIRY_PREFIX = "auth/expiry/"


def expiry_key(expires_iso: str, access_key_id: str) -> str:
    return f"{EXPIRY_PREFIX}{expires_iso}/{access_key_id}"


def last_used_key(access_key_id: str) -> str:
    return f"auth/lastused/{access_key_id}"
