"""IAM and STS services on the in-memory store, with the account admin as caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.support.fake_platform import ServiceEnv

from strongroom.services.iam import IamService
from strongroom.services.sts import StsService

Call = Callable[..., dict[str, Any]]


@pytest.fixture()
def env() -> ServiceEnv:
    env = ServiceEnv()
    env.add_service("iam", IamService(env.platform))
    env.add_service("sts", StsService(env.platform))
    return env


@pytest.fixture()
def iam(env: ServiceEnv) -> Call:
    def call(operation: str, **params: Any) -> dict[str, Any]:
        principal = params.pop("_principal", None)
        return env.call("iam", operation, params, principal=principal)

    return call


@pytest.fixture()
def sts(env: ServiceEnv) -> Call:
    def call(operation: str, **params: Any) -> dict[str, Any]:
        principal = params.pop("_principal", None)
        return env.call("sts", operation, params, principal=principal)

    return call
