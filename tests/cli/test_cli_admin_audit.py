"""Admin commands that change state outside the API are in the audit trail.

``accounts create``, ``root rotate``, ``rotators add|remove``, ``kms seed``
and the first ``server`` start record ``AwsServiceEvent`` events from
``strongroom.cli`` in the affected accounts, naming the OS user who ran
them; found with ``strongroom audit search`` (and LookupEvents). A command
whose request entry cannot be written changes nothing.
"""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
from pathlib import Path
from typing import Any

from tests.support.live_server import LiveServer
from tests.support.live_server import run_cli as run

OPERATOR = pwd.getpwuid(os.getuid()).pw_name
SEED = """\
keys:
  - id: 0f4f7a36-5b5c-4c1d-9a57-d1a6a1c0ffee
    description: seeded
    aliases: [alias/seeded]
"""


def search(data_dir: Path, *filters: str) -> list[dict[str, Any]]:
    out = run("audit", "search", "--data-dir", str(data_dir), "--json", "--max", "500", *filters)
    assert out.returncode == 0, out.stderr
    records: list[dict[str, Any]] = json.loads(out.stdout)
    return records


def admin_events(data_dir: Path, name: str) -> list[dict[str, Any]]:
    # One lookup attribute at a time, as LookupEvents allows.
    found = search(data_dir, "--event-name", name)
    return [r for r in found if r["eventSource"] == "strongroom.cli"]


def assert_operator_event(record: dict[str, Any], account: str, command: str) -> None:
    assert record["eventSource"] == "strongroom.cli"
    assert record["eventType"] == "AwsServiceEvent"
    assert record["readOnly"] is False and record["managementEvent"] is True
    assert record["recipientAccountId"] == account
    identity = record["userIdentity"]
    assert identity["accountId"] == account
    assert identity["invokedBy"] == "strongroom.cli"
    assert identity["userName"] == OPERATOR
    assert identity["principalId"] == str(os.getuid())
    assert record["userAgent"].startswith("strongroom-cli/")
    extra = record["additionalEventData"]
    assert extra["command"] == command
    assert extra["operator"]["userName"] == OPERATOR
    assert isinstance(extra["operator"]["pid"], int)


def test_accounts_create_is_recorded_in_the_new_account(tmp_path: Path) -> None:
    created = run("accounts", "create", "team-a", "--data-dir", str(tmp_path), "--json")
    assert created.returncode == 0, created.stderr
    row = json.loads(created.stdout)[0]
    [record] = admin_events(tmp_path, "CreateAccount")
    assert_operator_event(record, row["AccountId"], "strongroom accounts create")
    assert record["requestParameters"] == {"accountName": "team-a", "accountId": row["AccountId"]}
    assert record["responseElements"] == {
        "accountId": row["AccountId"],
        "adminUser": f"arn:aws:iam::{row['AccountId']}:user/admin",
        "accessKeyId": row["AccessKeyId"],
    }
    assert {r["type"] for r in record["resources"]} == {"AWS::IAM::Root", "AWS::IAM::User"}
    assert "errorCode" not in record
    # Found by the operator's name and by the account, as LookupEvents would.
    assert [r["eventID"] for r in search(tmp_path, "--username", OPERATOR)] == [record["eventID"]]
    assert search(tmp_path, "--account", row["AccountId"])[0]["eventID"] == record["eventID"]
    # The administrator's secret is shown once, never recorded.
    everything = json.dumps(search(tmp_path))
    assert row["SecretAccessKey"] not in everything


def test_a_refused_creation_is_recorded_with_its_error(tmp_path: Path) -> None:
    first = run(
        "accounts", "create", "x", "--account-id", "222233334444", "--data-dir", str(tmp_path)
    )
    assert first.returncode == 0, first.stderr
    again = run(
        "accounts", "create", "y", "--account-id", "222233334444", "--data-dir", str(tmp_path)
    )
    assert again.returncode == 1
    records = admin_events(tmp_path, "CreateAccount")
    assert [r.get("errorCode") for r in records] == ["AccountExists", None]  # newest first
    assert "already exists" in records[0]["errorMessage"]
    assert records[0]["responseElements"] is None


def test_root_rotate_is_recorded_in_every_account(tmp_path: Path) -> None:
    for account in ("111111111111", "222222222222"):
        made = run(
            "accounts", "create", account, "--account-id", account, "--data-dir", str(tmp_path)
        )
        assert made.returncode == 0, made.stderr
    rotated = run("root", "rotate", "--data-dir", str(tmp_path), "--json")
    assert rotated.returncode == 0, rotated.stderr
    report = json.loads(rotated.stdout)[0]
    records = admin_events(tmp_path, "RotateRootKey")
    assert sorted(r["recipientAccountId"] for r in records) == ["111111111111", "222222222222"]
    for record in records:
        assert_operator_event(record, record["recipientAccountId"], "strongroom root rotate")
        assert record["responseElements"] == {
            "term": report["term"],
            "resealed": report["resealed"],
        }
    # One action: one request id, one shared event id, two event ids.
    assert len({r["requestID"] for r in records}) == 1
    assert len({r["sharedEventID"] for r in records}) == 1
    assert len({r["eventID"] for r in records}) == 2


def test_rotators_add_and_remove(tmp_path: Path) -> None:
    added = run(
        "rotators",
        "add",
        "db-rotator",
        "--type",
        "http",
        "--url",
        "https://rotator.internal/step",
        "--data-dir",
        str(tmp_path),
        "--json",
    )
    assert added.returncode == 0, added.stderr
    row = json.loads(added.stdout)[0]
    [put] = admin_events(tmp_path, "PutRotator")
    assert_operator_event(put, "000000000000", "strongroom rotators add")
    assert put["requestParameters"] == {"name": "db-rotator", "type": "http"}
    assert put["resources"] == [
        {"ARN": row["Arn"], "type": "AWS::Lambda::Function", "accountId": "000000000000"}
    ]
    removed = run("rotators", "remove", "db-rotator", "--data-dir", str(tmp_path))
    assert removed.returncode == 0, removed.stderr
    missing = run("rotators", "remove", "db-rotator", "--data-dir", str(tmp_path))
    assert missing.returncode == 1
    deletes = admin_events(tmp_path, "DeleteRotator")
    assert [d.get("errorCode") for d in deletes] == ["ResourceNotFoundException", None]
    assert all(d["resources"][0]["ARN"] == row["Arn"] for d in deletes)
    # Neither the HMAC key nor the endpoint is recorded.
    everything = json.dumps(search(tmp_path))
    assert row["HmacKey"] not in everything and "rotator.internal" not in everything
    found = search(tmp_path, "--resource-name", row["Arn"])
    assert {r["eventName"] for r in found} == {"PutRotator", "DeleteRotator"}


def test_kms_seed(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED)
    applied = run("kms", "seed", str(seed), "--data-dir", str(tmp_path))
    assert applied.returncode == 0, applied.stderr
    [record] = admin_events(tmp_path, "ApplySeed")
    assert_operator_event(record, "000000000000", "strongroom kms seed")
    arn = "arn:aws:kms:us-east-1:000000000000:key/0f4f7a36-5b5c-4c1d-9a57-d1a6a1c0ffee"
    assert record["requestParameters"] == {"file": str(seed.resolve())}
    assert record["responseElements"]["created"] == [arn]
    assert record["resources"] == [
        {"ARN": arn, "type": "AWS::KMS::Key", "accountId": "000000000000"}
    ]
    # Contradicting the stored key: rejected, nothing changes, recorded as such.
    seed.write_text(SEED.replace("description: seeded", "key_spec: RSA_2048"))
    rejected = run("kms", "seed", str(seed), "--data-dir", str(tmp_path))
    assert rejected.returncode == 4
    latest = admin_events(tmp_path, "ApplySeed")[0]
    assert latest["errorCode"] == "SeedRejected"
    # A file that does not even parse never reaches the store: nothing to record.
    seed.write_text("keys: [")
    assert run("kms", "seed", str(seed), "--data-dir", str(tmp_path)).returncode == 4
    assert len(admin_events(tmp_path, "ApplySeed")) == 2


def test_first_server_start_is_recorded(server: LiveServer) -> None:
    [record] = [
        r
        for r in admin_events(server.data_dir, "CreateAccount")
        if r["recipientAccountId"] == "000000000000"
    ]
    assert_operator_event(record, "000000000000", "strongroom server")
    assert record["responseElements"]["accessKeyId"] == server.admin_credentials()[0]


def test_visible_through_lookup_events(server: LiveServer) -> None:
    name = f"lookup-{os.getpid()}"
    added = run(
        "rotators",
        "add",
        name,
        "--type",
        "python",
        "--entry-point",
        "rotation:handler",
        "--data-dir",
        str(server.data_dir),
    )
    assert added.returncode == 0, added.stderr
    cloudtrail = server.client("cloudtrail")
    by_source = cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "strongroom.cli"}]
    )["Events"]
    puts = [json.loads(e["CloudTrailEvent"]) for e in by_source if e["EventName"] == "PutRotator"]
    assert [r["requestParameters"]["name"] for r in puts][:1] == [name]
    by_operator = cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": OPERATOR}]
    )["Events"]
    assert puts[0]["eventID"] in {e["EventId"] for e in by_operator}


def refuse_inserts(data_dir: Path, table: str) -> sqlite3.Connection:
    """Make the audit log's inserts into ``table`` fail (a full disk, say)."""
    conn = sqlite3.connect(data_dir / "strongroom.db", isolation_level=None)
    conn.execute(
        f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    return conn


def test_nothing_changes_when_the_request_entry_cannot_be_written(tmp_path: Path) -> None:
    assert run("accounts", "list", "--data-dir", str(tmp_path)).returncode == 0  # initialised
    conn = refuse_inserts(tmp_path, "audit_pending")
    refused = run(
        "rotators",
        "add",
        "never",
        "--type",
        "python",
        "--entry-point",
        "m:f",
        "--data-dir",
        str(tmp_path),
    )
    conn.execute("DROP TRIGGER refuse_audit_pending")
    conn.close()
    assert refused.returncode == 5, refused.stdout + refused.stderr
    assert "nothing was changed" in refused.stderr
    listed = run("rotators", "list", "--data-dir", str(tmp_path), "--json")
    assert json.loads(listed.stdout) == []
    assert admin_events(tmp_path, "PutRotator") == []


def test_an_unrecorded_outcome_is_recovered_as_unknown(tmp_path: Path) -> None:
    from datetime import timedelta

    from strongroom.bootstrap import open_platform
    from strongroom.config import Settings

    assert run("accounts", "list", "--data-dir", str(tmp_path)).returncode == 0
    conn = refuse_inserts(tmp_path, "audit_events")
    done = run(
        "rotators",
        "add",
        "applied",
        "--type",
        "python",
        "--entry-point",
        "m:f",
        "--data-dir",
        str(tmp_path),
        "--json",
    )
    conn.execute("DROP TRIGGER refuse_audit_events")
    conn.close()
    # The change is made but not reported as a success.
    assert done.returncode == 5 and done.stdout == ""
    assert "will be recorded as Strongroom:OutcomeUnknown" in done.stderr
    listed = run("rotators", "list", "--data-dir", str(tmp_path), "--json")
    assert [r["Name"] for r in json.loads(listed.stdout)] == ["applied"]
    # The server's recovery job turns the request entry into an event.
    platform = open_platform(Settings(data_dir=tmp_path, audit_writer="thread"))
    try:
        assert platform.audit is not None
        later = platform.clock() + timedelta(minutes=6)
        assert platform.audit.recover_abandoned(later) == 1
    finally:
        platform.close()
    [record] = admin_events(tmp_path, "PutRotator")
    assert record["errorCode"] == "Strongroom:OutcomeUnknown"
    assert_operator_event(record, "000000000000", "strongroom rotators add")
