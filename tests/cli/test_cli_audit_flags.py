"""``strongroom server --audit/--no-audit --audit-retention-days --audit-export-dir
--audit-export-interval``, each also from its STRONGROOM_AUDIT* variable."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner
from tests.support.live_server import start_server

import strongroom.cli.server as server_cli
from strongroom.config import Settings, settings_from_env

AUDIT_VARIABLES = (
    "STRONGROOM_AUDIT",
    "STRONGROOM_AUDIT_RETENTION_DAYS",
    "STRONGROOM_AUDIT_EXPORT_DIR",
    "STRONGROOM_AUDIT_EXPORT_INTERVAL",
)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Run ``strongroom server`` up to uvicorn: what settings it built, and
    what its workers would rebuild from the environment it exported."""
    for name in AUDIT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    seen: dict[str, Any] = {}

    def initialise(settings: Settings, seed: Path | None = None) -> None:
        seen["settings"] = settings

    def run(*args: Any, **kwargs: Any) -> None:
        seen["worker_settings"] = settings_from_env()  # what create_app would build

    monkeypatch.setattr(server_cli, "initialise", initialise)
    monkeypatch.setattr("uvicorn.run", run)
    # export_settings writes os.environ: keep this test's changes to itself.
    monkeypatch.setattr(os, "environ", dict(os.environ))
    seen["data_dir"] = tmp_path
    yield seen


def invoke(seen: dict[str, Any], *args: str, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(
        server_cli.server, ["--data-dir", str(seen["data_dir"]), *args], env=env
    )
    seen["result"] = result
    return result


def test_defaults(started: dict[str, Any]) -> None:
    assert invoke(started).exit_code == 0
    settings = started["settings"]
    assert settings.audit_enabled is True
    assert settings.audit_retention_days == 90
    assert settings.audit_export_dir is None
    assert settings.audit_export_interval == 60.0


def test_flags_reach_the_workers(started: dict[str, Any], tmp_path: Path) -> None:
    result = invoke(
        started,
        "--no-audit",
        "--audit-retention-days",
        "7",
        "--audit-export-dir",
        "exported",
        "--audit-export-interval",
        "2.5",
    )
    assert result.exit_code == 0, result.output
    for settings in (started["settings"], started["worker_settings"]):
        assert settings.audit_enabled is False
        assert settings.audit_retention_days == 7
        assert settings.audit_export_dir is not None
        assert settings.audit_export_dir.name == "exported"
        assert settings.audit_export_interval == 2.5
    # Workers may not share the CLI's working directory: they get it absolute.
    assert started["worker_settings"].audit_export_dir.is_absolute()
    assert "audit trail is disabled" in result.output


def test_environment_and_flag_precedence(started: dict[str, Any], tmp_path: Path) -> None:
    env = {
        "STRONGROOM_AUDIT": "0",
        "STRONGROOM_AUDIT_RETENTION_DAYS": "30",
        "STRONGROOM_AUDIT_EXPORT_DIR": str(tmp_path / "from-env"),
        "STRONGROOM_AUDIT_EXPORT_INTERVAL": "5",
    }
    assert invoke(started, env=env).exit_code == 0
    settings = started["settings"]
    assert (settings.audit_enabled, settings.audit_retention_days) == (False, 30)
    assert settings.audit_export_dir == tmp_path / "from-env"
    assert settings.audit_export_interval == 5.0
    # A flag wins over its variable.
    assert invoke(started, "--audit", "--audit-retention-days", "365", env=env).exit_code == 0
    assert started["settings"].audit_enabled is True
    assert started["settings"].audit_retention_days == 365
    assert started["worker_settings"].audit_enabled is True


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--audit-retention-days", "0"], None),
        (["--audit-export-interval", "0"], None),
        (["--audit-export-interval", "soon"], None),
        ([], {"STRONGROOM_AUDIT": "maybe"}),
        ([], {"STRONGROOM_AUDIT_RETENTION_DAYS": "-1"}),
    ],
)
def test_bad_values_are_usage_errors(
    started: dict[str, Any], args: list[str], env: dict[str, str] | None
) -> None:
    result = invoke(started, *args, env=env)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "settings" not in started  # refused before the store is touched


def test_help_lists_the_audit_options() -> None:
    result = CliRunner().invoke(server_cli.server, ["--help"])
    for flag in (
        "--audit / --no-audit",
        "--audit-retention-days",
        "--audit-export-dir",
        "--audit-export-interval",
    ):
        assert flag in result.output


def test_no_audit_server_records_nothing(tmp_path: Path) -> None:
    live = start_server(tmp_path / "off", "--no-audit")
    try:
        live.client("sts").get_caller_identity()
        live.client("iam").create_user(UserName="unrecorded")
        with pytest.raises(ClientError) as refused:
            live.client("cloudtrail").lookup_events()
        assert refused.value.response["Error"]["Code"] == "OperationNotPermittedException"
        assert "audit trail is disabled" in live.log()
    finally:
        live.stop()


def test_export_flags_on_a_live_server(tmp_path: Path) -> None:
    export_dir = tmp_path / "exported"
    live = start_server(
        tmp_path / "data",
        "--audit-export-dir",
        str(export_dir),
        "--audit-export-interval",
        "0.5",
    )
    try:
        live.client("sts").get_caller_identity()
        deadline = time.monotonic() + 20
        logs: list[Path] = []
        while not logs and time.monotonic() < deadline:
            time.sleep(0.3)
            logs = [p for p in export_dir.rglob("*.json.gz") if "/CloudTrail/" in str(p)]
        assert logs, "the worker did not export: the flag did not reach it"
    finally:
        live.stop()


def test_readme_documents_the_flags() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for flag in ("--no-audit", "--audit-retention-days", "--audit-export-dir"):
        assert flag in readme
