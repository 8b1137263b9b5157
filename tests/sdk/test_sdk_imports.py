"""strongroom.sdk needs no server: importing it (and the values-only documents) must not
pull in the gateway, services, storage, boto3 or PyYAML (YAML is imported on use)."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("strongroom.gateway", "strongroom.services", "strongroom.storage", "boto", "yaml")


def test_sdk_imports_stay_light() -> None:
    code = (
        "import sys, strongroom.sdk, strongroom.sdk.documents;"
        f"print([m for m in sys.modules if m.startswith({FORBIDDEN!r})])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]", out
