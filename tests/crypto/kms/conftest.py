"""Key material shared by the KMS cryptography tests.

Generating RSA_4096 keys takes about a second each, so every spec's material
(and every wrapping key) is generated once per session and reused. The cache
goes through the library's own generators, so those are exercised too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from strongroom.crypto.kms import generate_key_material, new_wrapping_key

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def material() -> Callable[[str], bytes]:
    """``material(spec)``: one key's material per spec for the whole session."""
    cache: dict[str, bytes] = {}

    def get(key_spec: str) -> bytes:
        if key_spec not in cache:
            cache[key_spec] = generate_key_material(key_spec)
        return cache[key_spec]

    return get


@pytest.fixture(scope="session")
def wrapping_key() -> Callable[[str], tuple[bytes, bytes]]:
    """``wrapping_key(spec)``: one (private, public) wrapping key pair per spec."""
    cache: dict[str, tuple[bytes, bytes]] = {}

    def get(wrapping_key_spec: str) -> tuple[bytes, bytes]:
        if wrapping_key_spec not in cache:
            cache[wrapping_key_spec] = new_wrapping_key(wrapping_key_spec)
        return cache[wrapping_key_spec]

    return get


@pytest.fixture(scope="session")
def vectors() -> Callable[[str], Any]:
    """``vectors(name)``: a test-vector file from ``data/`` (each names its source)."""

    def load(name: str) -> Any:
        return json.loads((DATA / name).read_text())

    return load
