"""``strongroom rotators add/list/remove`` against a real (SQLite) data dir."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from strongroom.bootstrap import open_platform
from strongroom.cli.main import cli
from strongroom.config import settings_from_env
from strongroom.rotators.registry import RotatorRegistry


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_add_list_remove(tmp_path: Path) -> None:
    data = str(tmp_path)
    code, out = _run(
        "rotators",
        "add",
        "pg",
        "--type",
        "postgres-single",
        "--password-length",
        "40",
        "--data-dir",
        data,
        "--json",
    )
    assert code == 0, out
    assert json.loads(out)[0]["Arn"] == "arn:aws:lambda:us-east-1:000000000000:function:pg"
    code, out = _run(
        "rotators",
        "add",
        "hook",
        "--type",
        "http",
        "--url",
        "https://rot.example/step",
        "--account",
        "111122223333",
        "--region",
        "eu-west-1",
        "--data-dir",
        data,
        "--json",
    )
    assert code == 0, out
    key = json.loads(out)[0]["HmacKey"]
    assert len(bytes.fromhex(key)) == 32
    code, out = _run("rotators", "list", "--data-dir", data, "--json")
    rows = json.loads(out)
    assert {r["Name"] for r in rows} == {"pg", "hook"}
    assert key not in out  # the key is shown once, at registration
    platform = open_platform(settings_from_env(data_dir=tmp_path))
    try:
        stored = RotatorRegistry(platform.store).get("111122223333", "eu-west-1", "hook")
        assert stored is not None and stored.config["hmac_key"] == key
        pg = RotatorRegistry(platform.store).get("000000000000", "us-east-1", "pg")
        assert pg is not None and pg.config == {"password_length": 40}
    finally:
        platform.close()
    assert _run("rotators", "remove", "pg", "--data-dir", data)[0] == 0
    code, out = _run("rotators", "remove", "pg", "--data-dir", data)
    assert code != 0 and "no rotator" in out


def test_add_validates_type_specific_options(tmp_path: Path) -> None:
    data = str(tmp_path)
    assert _run("rotators", "add", "h", "--type", "http", "--data-dir", data)[0] == 2
    assert (
        _run("rotators", "add", "h", "--type", "http", "--url", "ftp://x", "--data-dir", data)[0]
        == 2
    )
    assert _run("rotators", "add", "p", "--type", "python", "--data-dir", data)[0] == 2
    code, _ = _run(
        "rotators", "add", "p", "--type", "python", "--entry-point", "mod:fn", "--data-dir", data
    )
    assert code == 0
    assert _run("rotators", "add", "x", "--type", "oracle", "--data-dir", data)[0] == 2
