"""The ``kms`` fixture: a fresh KMS service per test (see kms_support.py)."""

from __future__ import annotations

import pytest
from tests.services.kms.kms_support import KmsEnv


@pytest.fixture()
def kms() -> KmsEnv:
    return KmsEnv()
