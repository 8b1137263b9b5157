"""The ``sm`` fixture for rotator tests: KMS and Secrets Manager in-process."""

from __future__ import annotations

import pytest
from tests.services.secretsmanager.sm_support import SmEnv


@pytest.fixture()
def sm() -> SmEnv:
    return SmEnv()
