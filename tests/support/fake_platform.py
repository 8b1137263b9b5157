"""A Platform and RequestContext for unit tests of services, without a server.

``RecordingAuthorizer`` records every authorization question and can be told
to refuse some actions, so tests can assert both *what* an operation asked
permission for and how it behaves when refused. ``FakeClock`` drives both
wall-clock time (``clock()``) and the monotonic time caches use.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from tests.support.memory_store import MemoryStore

from strongroom.config import Settings
from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.iam.identities import IdentityStore
from strongroom.iam.principal import Principal
from strongroom.platform import Platform
from strongroom.services.base import Service
from strongroom.storage.base import Store

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
        self._mono = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self._mono += seconds


@dataclass
class AuthCall:
    principal_arn: str
    action: str
    resource: str
    resource_policy: str | None
    resource_account: str | None
    conditions: dict[str, Any]
    require_resource_policy: bool


@dataclass
class RecordingAuthorizer:
    calls: list[AuthCall] = field(default_factory=list)
    denied_actions: set[str] = field(default_factory=set)
    # Optional custom rule: return False to deny.
    rule: Callable[[AuthCall], bool] | None = None

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
        resource_policy_kind: object = None,
    ) -> None:
        call = AuthCall(
            ctx.principal.arn,
            action,
            resource,
            resource_policy,
            resource_account,
            dict(conditions or {}),
            require_resource_policy,
        )
        self.calls.append(call)
        if action in self.denied_actions or (self.rule is not None and not self.rule(call)):
            raise ServiceError(
                "AccessDenied",
                f"User: {ctx.principal.arn} is not authorized to perform: {action} "
                f"on resource: {resource}",
                403,
            )

    def actions(self) -> list[str]:
        return [c.action for c in self.calls]

    def last(self, action: str) -> AuthCall:
        return next(c for c in reversed(self.calls) if c.action == action)


def make_platform(
    store: Store | None = None,
    clock: FakeClock | None = None,
    authorizer: RecordingAuthorizer | None = None,
    *,
    cache_ttl: float = 2.0,
) -> Platform:
    clock = clock or FakeClock()
    store = store or MemoryStore()
    identities = IdentityStore(store, clock, cache_ttl=cache_ttl, monotonic=clock.monotonic)
    return Platform(
        settings=Settings(),
        store=store,
        raw_store=store,
        barrier=cast(Any, None),  # services under test never touch the barrier
        identities=identities,
        authorizer=authorizer or RecordingAuthorizer(),
        clock=clock,
        jobs=cast(Any, None),  # nor background jobs
    )


def make_ctx(
    platform: Platform,
    principal: Principal,
    *,
    service: str = "iam",
    operation: str = "",
    region: str = "us-east-1",
) -> RequestContext:
    return RequestContext(
        request_id=str(uuid.uuid4()),
        region=region,
        principal=principal,
        now=platform.clock(),
        platform=platform,
        service=service,
        operation=operation,
    )


class ServiceEnv:
    """One account with its admin user, and helpers to call operations."""

    def __init__(self, *, cache_ttl: float = 2.0) -> None:
        self.clock = FakeClock()
        self.store = MemoryStore()
        self.authorizer = RecordingAuthorizer()
        self.platform = make_platform(self.store, self.clock, self.authorizer, cache_ttl=cache_ttl)
        self.identities = self.platform.identities
        created = self.identities.ensure_account(ACCOUNT, "test")
        assert created is not None
        self.admin_key, self.admin_secret = created
        self.admin = self.principal(self.admin_key)
        self.services: dict[str, Service] = {}

    def principal(self, access_key_id: str) -> Principal:
        credential = self.identities.lookup_access_key(access_key_id)
        assert credential is not None, access_key_id
        return credential.principal

    def add_service(self, name: str, service: Service) -> None:
        self.services[name] = service
        self.platform.services[name] = service

    def call(
        self,
        service: str,
        operation: str,
        params: dict[str, Any] | None = None,
        *,
        principal: Principal | None = None,
    ) -> dict[str, Any]:
        ctx = make_ctx(self.platform, principal or self.admin, service=service, operation=operation)
        handler = self.services[service].handler(operation)
        assert handler is not None, f"{service}:{operation} is not implemented"
        return handler(ctx, dict(params or {}))
