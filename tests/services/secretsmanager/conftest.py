"""The ``sm`` fixture: fresh KMS and Secrets Manager services per test."""

from __future__ import annotations

import pytest
from tests.services.secretsmanager.sm_support import SmEnv


@pytest.fixture()
def sm() -> SmEnv:
    return SmEnv()
