"""What the gateway gets back for an access key id, and how sessions are stored.

A :class:`Credential` is the resolved view of a ``KeyRecord``: the secret to
check the SigV4 signature with, and the principal the request runs as. For
STS sessions only the SHA-256 of the session token is kept; the gateway
hashes the ``X-Amz-Security-Token`` it receives and compares digests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from strongroom.iam.ids import (
    ACCESS_KEY_PREFIX,
    iso,
    new_id,
    new_secret_access_key,
    parse_iso,
)
from strongroom.iam.principal import Principal, PrincipalType, SessionContext, root_principal
from strongroom.iam.records import Entity, KeyRecord


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    secret_access_key: str
    principal: Principal
    active: bool
    expires: datetime | None
    session_token_sha256: bytes | None


@dataclass(frozen=True)
class PrincipalPolicies:
    """Every policy document that bears on one principal's requests."""

    # (label, JSON document): inline, attached and group policies that apply.
    # Labels: a managed policy's ARN, or "<kind>/<entity name>/<inline policy name>".
    identity: tuple[tuple[str, str], ...]
    boundary: tuple[str, str] | None  # (policy ARN, document)
    session: tuple[str, ...]  # session policy documents from the STS session


EMPTY_POLICIES = PrincipalPolicies((), None, ())


def new_long_term_key(account: str, user: str | None, now: datetime) -> KeyRecord:
    """An AKIA key for an IAM user (``user`` is its name) or, with None, the root."""
    return KeyRecord(
        access_key_id=new_id(ACCESS_KEY_PREFIX),
        secret=new_secret_access_key(),
        account=account,
        kind="user" if user is not None else "root",
        created=iso(now),
        user=None if user is None else user.lower(),
    )


def user_principal(user: Entity, access_key_id: str) -> Principal:
    return Principal(
        account_id=user.account,
        arn=user.arn,
        type=PrincipalType.USER,
        principal_id=user.id,
        access_key_id=access_key_id,
        user_name=user.name,
        tags={t["Key"]: t["Value"] for t in user.tags},
    )


def long_term_credential(record: KeyRecord, user: Entity | None) -> Credential | None:
    """Resolve an AKIA record; None when its user no longer exists."""
    if record.kind == "root":
        principal = root_principal(record.account, record.access_key_id)
    elif user is None:
        return None
    else:
        principal = user_principal(user, record.access_key_id)
    return Credential(
        access_key_id=record.access_key_id,
        secret_access_key=record.secret,
        principal=principal,
        active=record.status == "Active",
        expires=None,
        session_token_sha256=None,
    )


def session_credential(record: KeyRecord) -> Credential | None:
    if record.session is None or record.expires is None or record.token_sha256 is None:
        return None
    return Credential(
        access_key_id=record.access_key_id,
        secret_access_key=record.secret,
        principal=principal_from_dict(record.session),
        active=record.status == "Active",
        expires=parse_iso(record.expires),
        session_token_sha256=bytes.fromhex(record.token_sha256),
    )


# -- principal (de)serialization for session records -----------------------


def principal_to_dict(principal: Principal) -> dict[str, Any]:
    session = principal.session
    return {
        "account_id": principal.account_id,
        "arn": principal.arn,
        "type": principal.type.value,
        "principal_id": principal.principal_id,
        "access_key_id": principal.access_key_id,
        "user_name": principal.user_name,
        "tags": dict(principal.tags),
        "session": None
        if session is None
        else {
            "issuer_arn": session.issuer_arn,
            "issuer_id": session.issuer_id,
            "issuer_type": session.issuer_type,
            "session_name": session.session_name,
            "created": iso(session.created),
            "expires": iso(session.expires),
            "mfa_authenticated": session.mfa_authenticated,
            "session_policies": list(session.session_policies),
            "source_identity": session.source_identity,
        },
    }


def principal_from_dict(data: dict[str, Any]) -> Principal:
    raw = data.get("session")
    session = None
    if raw is not None:
        session = SessionContext(
            issuer_arn=raw["issuer_arn"],
            issuer_id=raw["issuer_id"],
            issuer_type=raw["issuer_type"],
            session_name=raw["session_name"],
            created=parse_iso(raw["created"]),
            expires=parse_iso(raw["expires"]),
            mfa_authenticated=bool(raw["mfa_authenticated"]),
            session_policies=tuple(raw["session_policies"]),
            source_identity=raw["source_identity"],
        )
    return Principal(
        account_id=data["account_id"],
        arn=data["arn"],
        type=PrincipalType(data["type"]),
        principal_id=data["principal_id"],
        access_key_id=data["access_key_id"],
        user_name=data["user_name"],
        session=session,
        tags=dict(data["tags"]),
    )
