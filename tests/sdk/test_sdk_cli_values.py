"""``strongroom encrypt/decrypt --values-only`` and ``strongroom exec`` end to end."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from strongroom.cli.main import cli
from strongroom.sdk.documents import META_KEY

DOC: dict[str, Any] = {
    "db": {"host": "db.internal", "port": 5432, "password": "hunter2", "ratio": 0.75},
    "features": {"beta": True, "legacy": False, "owner": None},
    "hosts": ["a.example", "b.example", "c.example"],
    "empty": {},
    "unicode": "päss wörd ✓",
}
ENV_TEXT = (
    '# database\nDB_PASSWORD=hunter2\n\nexport API_TOKEN="tok en=123"\nPLAIN=value with spaces\n'
)


def _run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def wk(tmp_path: Path) -> str:
    (tmp_path / "key").write_bytes(os.urandom(32))
    return f"raw-aes:ns:doc-key:{tmp_path / 'key'}"


def _encrypt(tmp_path: Path, wk: str, name: str, text: str, *extra: str) -> Path:
    src = tmp_path / name
    src.write_text(text)
    out = tmp_path / ("enc-" + name)
    code, output = _run("encrypt", "--values-only", str(src), "-o", str(out), "-w", wk, *extra)
    assert code == 0, output
    return out


@pytest.mark.parametrize(
    ("name", "dump", "load"),
    [
        ("config.yaml", lambda d: yaml.safe_dump(d, sort_keys=False), yaml.safe_load),
        ("config.json", lambda d: json.dumps(d, indent=2), json.loads),
    ],
)
def test_round_trip_yaml_json(
    tmp_path: Path, wk: str, name: str, dump: Callable[[Any], str], load: Callable[[str], Any]
) -> None:
    enc = _encrypt(tmp_path, wk, name, dump(DOC), "-c", "app=billing")
    text = enc.read_text()
    for secret in ("hunter2", "db.internal", "5432", "päss"):
        assert secret not in text
    tree = load(text)
    assert list(tree) == [*DOC, META_KEY]  # keys readable, order kept
    assert tree["db"]["port"].startswith("ENC[esdk,type:int,data:")
    assert tree["features"]["beta"].startswith("ENC[esdk,type:bool,")
    assert tree[META_KEY]["encryption_context"]["app"] == "billing"
    assert tree[META_KEY]["wrapping_keys"] == [{"provider_id": "ns", "key": "doc-key"}]
    out = tmp_path / ("dec-" + name)
    # auto-detected as a values-only document; the context is enforced
    code, output = _run("decrypt", str(enc), "-o", str(out), "-w", wk, "-c", "app=billing")
    assert code == 0, output
    back = load(out.read_text())
    assert back == DOC and list(back) == list(DOC)
    assert type(back["db"]["port"]) is int and type(back["db"]["ratio"]) is float
    code, output = _run("decrypt", str(enc), "-w", wk, "-c", "app=other")
    assert code == 1 and "EncryptionContextError" in output


def test_round_trip_env_keeps_layout(tmp_path: Path, wk: str) -> None:
    enc = _encrypt(tmp_path, wk, ".env", ENV_TEXT)
    text = enc.read_text()
    assert "hunter2" not in text and "tok en" not in text
    assert text.startswith("# database\nDB_PASSWORD=ENC[esdk,type:str,")
    assert "\n\nexport API_TOKEN=ENC[" in text and f"\n{META_KEY}=" in text
    code, output = _run("decrypt", "--format", "env", str(enc), "-w", wk)
    assert code == 0, output
    assert output == ENV_TEXT


def _tamper_json(enc: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    tree = json.loads(enc.read_text())
    edit(tree)
    enc.write_text(json.dumps(tree))


def _flip_value(tree: dict[str, Any]) -> None:
    marker = tree["db"]["password"]
    i = len(marker) // 2
    tree["db"]["password"] = marker[:i] + ("A" if marker[i] != "A" else "B") + marker[i + 1 :]


def _swap(tree: dict[str, Any]) -> None:
    db = tree["db"]
    db["host"], db["password"] = db["password"], db["host"]


def _edit_metadata(tree: dict[str, Any]) -> None:
    tree[META_KEY]["wrapping_keys"][0]["key"] = "other-key"


TAMPERS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("modified value", _flip_value, "/db/password: encrypted value does not verify"),
    ("swapped values", _swap, "/db/host: holds the value encrypted for /db/password"),
    (
        "removed key",
        lambda t: t["db"].pop("ratio"),
        "were removed: value #3 (the value after /db/password)",
    ),
    ("added key", lambda t: t["db"].update(user="admin"), "/db/user: value is not encrypted"),
    (
        "reordered list",
        lambda t: t["hosts"].reverse(),
        "/hosts/0: holds the value encrypted for /hosts/2",
    ),
    ("edited metadata", _edit_metadata, "metadata: 'wrapping_keys' does not match"),
    (
        "reordered keys",
        lambda t: t.update(db=dict(reversed(t["db"].items()))),
        "was encrypted as value #3 but is value #0",
    ),
    ("added empty map", lambda t: t["empty"].update(x={}), "document MAC does not verify"),
    ("edited mac", lambda t: t[META_KEY].update(mac="00" * 32), "document MAC does not verify"),
]


@pytest.mark.parametrize(("label", "edit", "message"), TAMPERS, ids=[t[0] for t in TAMPERS])
def test_tampering_fails_precisely(
    tmp_path: Path, wk: str, label: str, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    enc = _encrypt(tmp_path, wk, "c.json", json.dumps(DOC))
    _tamper_json(enc, edit)
    out = tmp_path / "plain.json"
    code, output = _run("decrypt", str(enc), "-o", str(out), "-w", wk)
    assert code == 1, label
    assert "DocumentError" in output and message in output, output
    assert "hunter2" not in output and not out.exists()


def test_wrong_key_and_not_a_document(tmp_path: Path, wk: str) -> None:
    enc = _encrypt(tmp_path, wk, "c.yaml", "a: 1\n")
    (tmp_path / "other").write_bytes(os.urandom(32))
    code, output = _run("decrypt", str(enc), "-w", f"raw-aes:ns:doc-key:{tmp_path / 'other'}")
    assert code == 1 and "NoDataKeyError" in output and "metadata: the data key" in output
    (tmp_path / "plain.yaml").write_text("a: 1\n")
    code, output = _run("decrypt", "--values-only", str(tmp_path / "plain.yaml"), "-w", wk)
    assert code == 1 and "not a values-only document" in output
    code, output = _run("encrypt", "--values-only", str(enc), "-w", wk)
    assert code == 1 and "already has" in output
    code, output = _run("encrypt", "--values-only", str(tmp_path / "key"), "-w", wk)
    assert code == 1 and "use --format" in output


def test_metadata_output_names_the_key_that_decrypted(tmp_path: Path) -> None:
    for name in ("k1", "k2"):
        (tmp_path / name).write_bytes(os.urandom(32))
    w1, w2 = (f"raw-aes:ns:{n}:{tmp_path / n}" for n in ("k1", "k2"))
    (tmp_path / "p").write_bytes(b"payload")
    code, out = _run(
        "encrypt", "-i", str(tmp_path / "p"), "-o", str(tmp_path / "c"), "-w", w1, "-w", w2
    )
    assert code == 0, out
    meta = tmp_path / "meta.jsonl"
    code, out = _run(
        "decrypt",
        str(tmp_path / "c"),
        "-o",
        str(tmp_path / "d"),
        "-w",
        w2,
        "--metadata-output",
        str(meta),
    )
    assert code == 0, out
    record = json.loads(meta.read_text())
    assert record["decrypted_data_key"] == {"provider_id": "ns", "key": "k2"}
    assert [e["key"] for e in record["header"]["encrypted_data_keys"]] == ["k1", "k2"]
    enc = _encrypt(tmp_path, w1, "v.env", "A=1\n", "-w", w2)
    meta.unlink()
    code, out = _run("decrypt", str(enc), "-w", w2, "--metadata-output", str(meta))
    assert code == 0 and out == "A=1\n"
    record = json.loads(meta.read_text())
    assert record["values_only"] and record["decrypted_data_key"]["key"] == "k2"


def _child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_exec_env_and_exit_code(tmp_path: Path, wk: str) -> None:
    enc = _encrypt(tmp_path, wk, "s.env", ENV_TEXT)
    probe = (
        "import os,sys;"
        "ok = os.environ['DB_PASSWORD']=='hunter2' and os.environ['API_TOKEN']=='tok en=123';"
        "sys.exit(7 if ok else 3)"
    )
    code, out = _run("exec", "-i", str(enc), "-w", wk, "--", *_child(probe))
    assert code == 7, out
    assert "hunter2" not in out
    code, out = _run("exec", "-i", str(enc), "-w", wk, "--", "/nonexistent/cmd")
    assert code == 127 and "command not found" in out


def test_exec_json_scalars_and_refusals(tmp_path: Path, wk: str) -> None:
    flat = {"PORT": 8080, "DEBUG": False, "NAME": "svc", "NOTHING": None}
    enc = _encrypt(tmp_path, wk, "s.json", json.dumps(flat))
    probe = (
        "import os,sys;e=os.environ;"
        "sys.exit(0 if (e['PORT'],e['DEBUG'],e['NAME'],e['NOTHING'])==('8080','false','svc','') else 1)"
    )
    assert _run("exec", "-i", str(enc), "-w", wk, "--", *_child(probe))[0] == 0
    nested = _encrypt(tmp_path, wk, "n.json", json.dumps({"db": {"password": "hunter2"}}))
    code, out = _run("exec", "-i", str(nested), "-w", wk, "--", *_child("pass"))
    assert code == 1 and "/db: exec needs a flat document" in out and "hunter2" not in out
    _tamper_json(enc, lambda t: t.update(PORT=t.pop("NAME")))
    code, out = _run("exec", "-i", str(enc), "-w", wk, "--", *_child("pass"))
    assert code == 1 and "DocumentError" in out


def test_caching_spec_and_discovery_flags(tmp_path: Path, wk: str) -> None:
    (tmp_path / "p").write_bytes(b"x")
    for spec in ("60", "max-age=60,max-messages=10,max-bytes=1000,capacity=5"):
        code, out = _run(
            "encrypt",
            "-i",
            str(tmp_path / "p"),
            "-o",
            str(tmp_path / "c"),
            "-w",
            wk,
            "--caching",
            spec,
        )
        assert code == 0, out
    for bad in ("max-messages=10", "max-age=1,bogus=2", "max-age=1,max-messages=0"):
        code, out = _run("encrypt", "-i", str(tmp_path / "p"), "-w", wk, "--caching", bad)
        assert code == 2, (bad, out)
    code, out = _run("encrypt", "-i", str(tmp_path / "p"), "--discovery")
    assert code == 2 and "cannot encrypt" in out
    code, out = _run(
        "decrypt", "-i", str(tmp_path / "c"), "-w", wk, "--discovery-account", "111122223333"
    )
    assert code == 2 and "need --discovery" in out
    code, out = _run(
        "decrypt", "-i", str(tmp_path / "c"), "--discovery", "--discovery-account", "12"
    )
    assert code == 2 and "12-digit" in out


def test_discovery_filter_and_caching_with_kms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.sdk.test_sdk_keyrings import ARN, OTHER, FakeKms

    kms = FakeKms(ARN, OTHER)
    monkeypatch.setattr("strongroom.cli.crypto_keys.kms_client", lambda region: kms)
    for name in ("a", "b", "c"):
        (tmp_path / name).write_bytes(name.encode() * 100)
    code, out = _run(
        "encrypt",
        "-r",
        "-i",
        str(tmp_path),
        "-o",
        str(tmp_path),
        "-w",
        ARN,
        "--caching",
        "max-age=60,max-messages=2",
        "--suffix",
        ".enc",
    )
    assert code == 0, out
    # three messages, at most two per cached data key: two GenerateDataKey calls, not three
    assert [c for c, _ in kms.calls].count("GenerateDataKey") == 2
    meta = tmp_path / "meta.jsonl"
    code, out = _run(
        "decrypt",
        str(tmp_path / "a.enc"),
        "-o",
        str(tmp_path / "a.out"),
        "--discovery",
        "--discovery-account",
        "111122223333",
        "--discovery-partition",
        "aws",
        "--metadata-output",
        str(meta),
    )
    assert code == 0, out
    assert (tmp_path / "a.out").read_bytes() == b"a" * 100
    used = json.loads(meta.read_text())["decrypted_data_key"]
    assert used == {"provider_id": "aws-kms", "key": ARN}
    code, out = _run(
        "decrypt", str(tmp_path / "a.enc"), "--discovery", "--discovery-account", "444455556666"
    )
    assert code == 1 and "NoDataKeyError" in out
