"""Helpers for Secrets Manager unit tests: the real KMS and Secrets Manager
services on the in-memory store, with the real policy authorizer (key
policies and resource policies are part of the behaviour under test)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.support.fake_platform import ACCOUNT, OTHER_ACCOUNT, ServiceEnv, make_ctx

from strongroom.authz.authorizer import PolicyAuthorizer
from strongroom.errors import ServiceError
from strongroom.events.bus import read_events
from strongroom.iam.principal import Principal
from strongroom.jobs.runner import JobRunner
from strongroom.services.iam import IamService
from strongroom.services.kms import KmsService
from strongroom.services.secretsmanager import SecretsManagerService

REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
TOKEN_A = "a" * 32
TOKEN_B = "b" * 32


class SmEnv:
    def __init__(self) -> None:
        self.env = ServiceEnv()
        self.platform = self.env.platform
        self.platform.authorizer = PolicyAuthorizer(self.env.identities)
        self.platform.jobs = JobRunner(
            self.env.store.leader_lock("test-jobs"), self.env.clock, poll_seconds=3600
        )
        self.clock = self.env.clock
        self.store = self.env.store
        self.kms = KmsService(self.platform)
        self.sm = SecretsManagerService(self.platform)
        self.env.add_service("kms", self.kms)
        self.env.add_service("secretsmanager", self.sm)
        self.env.add_service("iam", IamService(self.platform))
        self.admin = self.env.admin
        created = self.env.identities.ensure_account(OTHER_ACCOUNT, "other")
        assert created is not None
        self.other_admin = self.env.principal(created[0])

    def call(
        self,
        operation: str,
        *,
        principal: Principal | None = None,
        region: str = REGION,
        **params: Any,
    ) -> dict[str, Any]:
        ctx = make_ctx(
            self.platform,
            principal or self.admin,
            service="secretsmanager",
            operation=operation,
            region=region,
        )
        handler = self.sm.handler(operation)
        assert handler is not None, operation
        return handler(ctx, params)

    def error(
        self, operation: str, *, principal: Principal | None = None, **params: Any
    ) -> ServiceError:
        with pytest.raises(ServiceError) as info:
            self.call(operation, principal=principal, **params)
        return info.value

    def kms_call(
        self, operation: str, *, principal: Principal | None = None, **params: Any
    ) -> dict[str, Any]:
        ctx = make_ctx(self.platform, principal or self.admin, service="kms", operation=operation)
        handler = self.kms.handler(operation)
        assert handler is not None
        return handler(ctx, params)

    def iam(
        self, operation: str, principal: Principal | None = None, **params: Any
    ) -> dict[str, Any]:
        return self.env.call("iam", operation, params, principal=principal)

    def user(
        self, name: str, *policies: dict[str, Any], admin: Principal | None = None
    ) -> Principal:
        """An IAM user (of the admin's account) with inline identity policies."""
        self.iam("CreateUser", admin, UserName=name)
        for i, policy in enumerate(policies):
            self.iam(
                "PutUserPolicy",
                admin,
                UserName=name,
                PolicyName=f"p{i}",
                PolicyDocument=json.dumps(policy),
            )
        key = self.iam("CreateAccessKey", admin, UserName=name)["AccessKey"]["AccessKeyId"]
        return self.env.principal(key)

    def secret(self, name: str = "app/db", value: str = "s3cr3t", **params: Any) -> dict[str, Any]:
        return self.call("CreateSecret", Name=name, SecretString=value, **params)

    def value(self, secret_id: str, **params: Any) -> dict[str, Any]:
        return self.call("GetSecretValue", SecretId=secret_id, **params)

    def value_in(self, region: str, secret_id: str) -> str:
        return str(self.call("GetSecretValue", region=region, SecretId=secret_id)["SecretString"])

    def stages(self, secret_id: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = self.call("DescribeSecret", SecretId=secret_id)[
            "VersionIdsToStages"
        ]
        return out

    def events(self, region: str = REGION, account: str = ACCOUNT) -> list[dict[str, Any]]:
        return read_events(self.store, account, region)

    def event_names(self, region: str = REGION) -> list[str]:
        return [e["detail"]["eventName"] for e in self.events(region)]


def allow(actions: str | list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}
    return {"Version": "2012-10-17", "Statement": [statement]}


__all__ = ["ACCOUNT", "OTHER_ACCOUNT", "OTHER_REGION", "REGION", "SmEnv", "allow"]
