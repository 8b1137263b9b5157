"""Helpers for SSM unit tests: SSM, KMS and IAM services on the in-memory store,
with the real policy authorizer (authorization through IAM, key policies and
parameter resource policies is much of the behaviour under test).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.support.fake_platform import OTHER_ACCOUNT, ServiceEnv, make_ctx

from strongroom.authz.authorizer import PolicyAuthorizer
from strongroom.errors import ServiceError
from strongroom.events.bus import read_events
from strongroom.iam.principal import Principal
from strongroom.jobs.runner import JobRunner
from strongroom.services.iam import IamService
from strongroom.services.kms import KmsService
from strongroom.services.ssm import SsmService

REGION = "us-east-1"


class SsmEnv:
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
        self.ssm = SsmService(self.platform)
        self.env.add_service("kms", self.kms)
        self.env.add_service("iam", IamService(self.platform))
        self.env.add_service("ssm", self.ssm)
        self.admin = self.env.admin
        created = self.env.identities.ensure_account(OTHER_ACCOUNT, "other")
        assert created is not None
        self.other_admin = self.env.principal(created[0])

    def call(
        self,
        operation: str,
        *,
        principal: Principal | None = None,
        service: str = "ssm",
        region: str = REGION,
        **params: Any,
    ) -> dict[str, Any]:
        ctx = make_ctx(
            self.platform,
            principal or self.admin,
            service=service,
            operation=operation,
            region=region,
        )
        handler = self.env.services[service].handler(operation)
        assert handler is not None, operation
        return handler(ctx, params)

    def error(self, operation: str, **params: Any) -> ServiceError:
        with pytest.raises(ServiceError) as info:
            self.call(operation, **params)
        return info.value

    def put(self, name: str, value: str = "v", type_: str = "String", **params: Any) -> Any:
        return self.call("PutParameter", Name=name, Value=value, Type=type_, **params)

    def get(self, name: str, **params: Any) -> dict[str, Any]:
        return dict(self.call("GetParameter", Name=name, **params)["Parameter"])

    def kms_key(self, **params: Any) -> str:
        return str(self.call("CreateKey", service="kms", **params)["KeyMetadata"]["Arn"])

    def iam(self, operation: str, principal: Principal | None = None, **params: Any) -> Any:
        return self.env.call("iam", operation, params, principal=principal)

    def user(self, name: str, *policies: dict[str, Any], other: bool = False) -> Principal:
        """An IAM user (of the other account when ``other``) with inline policies."""
        admin = self.other_admin if other else self.admin
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

    def events(self, account: str, region: str = REGION) -> list[dict[str, Any]]:
        return read_events(self.store, account, region)

    def run_jobs(self) -> int:
        return self.ssm.policy_jobs.run(self.clock.now)


def allow(actions: str | list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}
    return {"Version": "2012-10-17", "Statement": [statement]}
