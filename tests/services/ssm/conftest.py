"""The ``ssm`` fixture: fresh SSM + KMS + IAM services per test (see ssm_support.py)."""

from __future__ import annotations

import pytest
from tests.services.ssm.ssm_support import SsmEnv


@pytest.fixture()
def ssm() -> SsmEnv:
    return SsmEnv()
