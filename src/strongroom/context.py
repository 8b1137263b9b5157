"""The per-request context handed to every operation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from strongroom.iam.policy import PolicyKind
from strongroom.iam.principal import Principal

if TYPE_CHECKING:
    from strongroom.platform import Platform


class Authorizer(Protocol):
    def authorize(
        self,
        ctx: RequestContext,
        action: str,
        resource: str,
        *,
        resource_policy: str | None = None,
        resource_account: str | None = None,
        conditions: Mapping[str, Any] | None = None,
        require_resource_policy: bool = False,
        resource_policy_kind: PolicyKind = PolicyKind.RESOURCE,
    ) -> None:
        """Raise an AccessDenied ``ServiceError`` unless the call is allowed."""


@dataclass
class RequestContext:
    request_id: str
    region: str
    principal: Principal
    now: datetime
    platform: Platform
    service: str  # botocore service name: "iam", "sts", "kms", …
    operation: str  # AWS operation name: "CreateUser"
    source_ip: str = "127.0.0.1"
    user_agent: str = ""
    secure_transport: bool = False
    # Filled by operations for the audit trail (resources touched, etc).
    audit: dict[str, Any] = field(default_factory=dict)

    @property
    def account_id(self) -> str:
        return self.principal.account_id

    def acting_for(self, service: str, operation: str, audit: dict[str, Any]) -> RequestContext:
        """This request's context for a call another service makes on the
        caller's behalf (KMS for Secrets Manager): same caller, time and
        origin, its own operation and audit data. (``dataclasses.replace``
        did the same at several times the cost, on every such call.)"""
        return RequestContext(
            self.request_id,
            self.region,
            self.principal,
            self.now,
            self.platform,
            service,
            operation,
            self.source_ip,
            self.user_agent,
            self.secure_transport,
            audit,
        )

    def authorize(
        self,
        action: str,
        resource: str,
        *,
        resource_policy: str | None = None,
        resource_account: str | None = None,
        conditions: Mapping[str, Any] | None = None,
        require_resource_policy: bool = False,
        resource_policy_kind: PolicyKind = PolicyKind.RESOURCE,
    ) -> None:
        """Authorize ``action`` on ``resource`` for this request's principal.

        ``resource_policy`` is the resource's own policy (key policy, role trust
        policy, secret policy). ``require_resource_policy`` says the resource
        policy must allow on its own (roles' trust policies, KMS key policies);
        otherwise AWS's same-account union / cross-account intersection applies.
        ``conditions`` adds service-specific condition keys (``kms:…``).
        ``resource_policy_kind`` is TRUST for a role's trust policy (no Resource element).
        """
        self.platform.authorizer.authorize(
            self,
            action,
            resource,
            resource_policy=resource_policy,
            resource_account=resource_account,
            conditions=conditions,
            require_resource_policy=require_resource_policy,
            resource_policy_kind=resource_policy_kind,
        )
