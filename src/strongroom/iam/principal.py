"""Who is calling: the authenticated principal of one request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class PrincipalType(StrEnum):
    # Values are what CloudTrail's userIdentity.type and aws:PrincipalType say.
    ROOT = "Root"
    USER = "IAMUser"
    ASSUMED_ROLE = "AssumedRole"
    FEDERATED_USER = "FederatedUser"


@dataclass(frozen=True)
class SessionContext:
    """Present for temporary credentials (STS AssumeRole / GetSessionToken)."""

    issuer_arn: str  # role ARN for assumed roles, user/root ARN for GetSessionToken
    issuer_id: str  # role id (AROA…) or user id (AIDA…)
    issuer_type: str  # "Role" | "IAMUser" | "Root"
    session_name: str | None
    created: datetime
    expires: datetime
    mfa_authenticated: bool = False
    # Session policies (JSON documents) passed to AssumeRole; they cap permissions.
    session_policies: tuple[str, ...] = ()
    source_identity: str | None = None


@dataclass(frozen=True)
class Principal:
    account_id: str
    arn: str  # arn:aws:iam::123456789012:user/alice, …:root, arn:aws:sts::…:assumed-role/R/s
    type: PrincipalType
    # userIdentity.principalId / aws:userid: AIDA… for users, AROA…:session for
    # assumed roles, the account id for root.
    principal_id: str
    access_key_id: str
    user_name: str | None = None  # IAM user name (aws:username); None for root and roles
    session: SessionContext | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return self.type is PrincipalType.ROOT

    @property
    def identity_arn(self) -> str:
        """The IAM entity whose policies apply: the role for an assumed role."""
        if self.type is PrincipalType.ASSUMED_ROLE and self.session is not None:
            return self.session.issuer_arn
        return self.arn


def root_principal(account_id: str, access_key_id: str = "") -> Principal:
    return Principal(
        account_id=account_id,
        arn=f"arn:aws:iam::{account_id}:root",
        type=PrincipalType.ROOT,
        principal_id=account_id,
        access_key_id=access_key_id,
    )
