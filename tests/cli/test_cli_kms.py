"""``strongroom server --seed``, ``strongroom kms seed`` and ``strongroom kms usage``
against a real server process, driven with boto3."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

from tests.support.live_server import free_port, start_server
from tests.support.live_server import run_cli as run

from strongroom.crypto.kms_ciphertext import BackingKey, encode_context
from strongroom.services.kms.seed import seed_material_id

ACCOUNT = "000000000000"
KEY_ID = "bc436485-5092-42b8-92a3-0aa8b93536dc"
HMAC_ID = "11111111-2222-3333-4444-555555555555"
OLD = bytes.fromhex("5cdaead27fe7da2de47945d73cd6d79e36494e73802f3cd3869f1d2cb0b5d7a9")
NEW = bytes(range(32))

SEED = f"""\
version: 1
keys:
  - id: {KEY_ID}
    description: payments
    material:
      - hex: {OLD.hex()}   # rotated out: decrypts only
      - hex: {NEW.hex()}   # current
    aliases: [alias/payments]
    tags: {{team: blue}}
  - id: {HMAC_ID}
    key_spec: HMAC_256
"""

BAD_SEED = f"""\
keys:
  - id: {KEY_ID}
    key_spec: RSA_2048
    material:
      - hex: {OLD.hex()}
"""


def test_seeded_server_serves_fixed_keys_and_reports_usage(tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(SEED)
    data = tmp_path / "data"
    # The seed comes from STRONGROOM_SEED here (--seed works the same way).
    server = start_server(data, env={"STRONGROOM_SEED": str(seed_file)})
    try:
        assert "Seed " in server.log() and "2 created" in server.log()
        kms = server.client("kms")
        blob = kms.encrypt(KeyId="alias/payments", Plaintext=b"card")["CiphertextBlob"]
        out = kms.decrypt(CiphertextBlob=blob)
        assert (out["KeyId"], out["Plaintext"]) == (
            f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}",
            b"card",
        )
        # A ciphertext of the older backing key, made without this server.
        old = BackingKey(ACCOUNT, KEY_ID, seed_material_id(ACCOUNT, KEY_ID, OLD), OLD)
        legacy = old.encrypt(b"from before", encode_context(None))
        assert kms.decrypt(CiphertextBlob=legacy, KeyId=KEY_ID)["Plaintext"] == b"from before"

        # An admin re-seed while the server runs: the description changes.
        seed_file.write_text(SEED.replace("description: payments", "description: payments v2"))
        reseed = run("kms", "seed", str(seed_file), "--data-dir", str(data), "--json")
        assert reseed.returncode == 0, reseed.stderr
        result = json.loads(reseed.stdout)
        assert result["Updated"] == {
            f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}": ["description"]
        }
        assert len(result["Unchanged"]) == 1
        deadline = time.monotonic() + 10
        while kms.describe_key(KeyId=KEY_ID)["KeyMetadata"]["Description"] != "payments v2":
            assert time.monotonic() < deadline, "the server never saw the re-seed"
            time.sleep(0.2)
    finally:
        server.stop()  # a clean shutdown writes the request counters

    usage = run("kms", "usage", "--data-dir", str(data), "--account", ACCOUNT, "--json")
    assert usage.returncode == 0, usage.stderr
    report = json.loads(usage.stdout)
    keys = {k["KeyId"]: k for k in report["Keys"]}
    counts = {op["Operation"]: op["Requests"] for op in keys[KEY_ID]["Operations"]}
    assert counts["Encrypt"] == 1 and counts["Decrypt"] == 2
    assert counts["DescribeKey"] >= 1
    assert keys[KEY_ID]["Aliases"] == ["alias/payments"]
    assert keys[HMAC_ID]["KeySpec"] == "HMAC_256" and keys[HMAC_ID]["Requests"] == 0
    assert report["Totals"]["Requests"] == sum(k["Requests"] for k in report["Keys"])

    human = run("kms", "usage", "--data-dir", str(data))
    assert human.returncode == 0, human.stderr
    assert "Total" in human.stdout and "Encrypt" in human.stdout

    # Restarting with the same file changes nothing.
    again = start_server(data, "--seed", str(seed_file))
    try:
        assert "0 created, 0 updated, 2 unchanged" in again.log()
    finally:
        again.stop()


def test_invalid_seed_stops_the_server_and_the_admin_command(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_SEED)
    check = run("kms", "seed", "--check", str(bad))
    assert check.returncode == 4
    assert f"{bad}:5: keys[0].material[0]: Key material for RSA_2048 must be" in check.stderr

    started = run(
        "server", "--data-dir", str(tmp_path / "d"), "--port", str(free_port()), "--seed", str(bad)
    )
    assert started.returncode == 4
    assert "the seed file was not applied" in started.stderr
    assert "listening" not in started.stdout

    good = tmp_path / "good.yaml"
    good.write_text(SEED)
    assert run("kms", "seed", "--check", str(good)).returncode == 0
    missing = run("kms", "seed", str(tmp_path / "nope.yaml"), "--data-dir", str(tmp_path / "d"))
    assert missing.returncode == 4 and "cannot read the seed file" in missing.stderr


def test_usage_rejects_bad_periods(tmp_path: Path) -> None:
    bad = run("kms", "usage", "--data-dir", str(tmp_path), "--since", "yesterday")
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr
    backwards = run(
        "kms",
        "usage",
        "--data-dir",
        str(tmp_path),
        "--since",
        "2024-05-02",
        "--until",
        "2024-05-01",
    )
    assert backwards.returncode == 2 and "later than --since" in backwards.stderr
    empty = run("kms", "usage", "--data-dir", str(tmp_path), "--json", "--since", "2024-05-01")
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout)["Keys"] == []


def test_dev_reset_applies_the_seed_again(tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(SEED)
    server = start_server(tmp_path / "data", "--dev", "--seed", str(seed_file))
    try:
        kms = server.client("kms", ("test", "test"))
        kms.create_key(Description="made after start")
        assert len(kms.list_keys()["Keys"]) == 3
        reset = urllib.request.Request(server.endpoint + "/_strongroom/reset", data=b"")
        with urllib.request.urlopen(reset, timeout=30) as resp:
            assert resp.status == 200
        # The key made after start is gone; the seeded keys are back, usable.
        assert sorted(k["KeyId"] for k in kms.list_keys()["Keys"]) == sorted([KEY_ID, HMAC_ID])
        blob = kms.encrypt(KeyId="alias/payments", Plaintext=b"again")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"again"
    finally:
        server.stop()
