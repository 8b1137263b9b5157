"""Helpers for KMS unit tests: a KMS service on the in-memory store, with the
real policy authorizer.

Unlike the IAM tests, KMS tests evaluate real key policies and IAM policies
(``PolicyAuthorizer``): the behaviour under test is largely authorization.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from tests.support.fake_platform import ACCOUNT, OTHER_ACCOUNT, ServiceEnv, make_ctx

from strongroom.authz.authorizer import PolicyAuthorizer
from strongroom.errors import ServiceError
from strongroom.iam.principal import Principal
from strongroom.jobs.runner import JobRunner
from strongroom.services.iam import IamService
from strongroom.services.kms import KmsService

REGION = "us-east-1"
OTHER_REGION = "eu-west-1"


class KmsEnv:
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
        self.env.add_service("kms", self.kms)
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
        audit: dict[str, Any] | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        ctx = make_ctx(
            self.platform,
            principal or self.admin,
            service="kms",
            operation=operation,
            region=region,
        )
        if audit:
            ctx.audit.update(audit)
        handler = self.kms.handler(operation)
        assert handler is not None, operation
        return handler(ctx, params)

    def error(self, operation: str, **params: Any) -> ServiceError:
        with pytest.raises(ServiceError) as info:
            self.call(operation, **params)
        return info.value

    def iam(self, operation: str, **params: Any) -> dict[str, Any]:
        return self.env.call("iam", operation, params)

    def user(self, name: str, *policies: dict[str, Any]) -> Principal:
        """An IAM user of ACCOUNT with the given inline identity policies."""
        self.iam("CreateUser", UserName=name)
        for i, policy in enumerate(policies):
            self.iam(
                "PutUserPolicy",
                UserName=name,
                PolicyName=f"p{i}",
                PolicyDocument=json.dumps(policy),
            )
        key = self.iam("CreateAccessKey", UserName=name)["AccessKey"]["AccessKeyId"]
        return self.env.principal(key)

    def other_user(self, name: str, *policies: dict[str, Any]) -> Principal:
        """An IAM user of OTHER_ACCOUNT (created through the other admin)."""
        ctx_call = self.env.call
        self.env.call("iam", "CreateUser", {"UserName": name}, principal=self.other_admin)
        for i, policy in enumerate(policies):
            ctx_call(
                "iam",
                "PutUserPolicy",
                {"UserName": name, "PolicyName": f"p{i}", "PolicyDocument": json.dumps(policy)},
                principal=self.other_admin,
            )
        key = ctx_call("iam", "CreateAccessKey", {"UserName": name}, principal=self.other_admin)
        return self.env.principal(key["AccessKey"]["AccessKeyId"])

    def key(self, **params: Any) -> dict[str, Any]:
        return self.call("CreateKey", **params)["KeyMetadata"]


def allow(actions: str | list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}
    return {"Version": "2012-10-17", "Statement": [statement]}


def key_policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def root_statement(account: str = ACCOUNT) -> dict[str, Any]:
    return {
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


Call = Callable[..., dict[str, Any]]
