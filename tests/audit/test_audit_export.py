"""Export to CloudTrail log and digest files, and catch every kind of tampering."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from strongroom.audit.digest_keys import DigestKeys, load_public_pem, public_fingerprint
from strongroom.audit.export import Exporter
from strongroom.audit.files import DIGEST_NAME, LOG_NAME
from strongroom.audit.log import AuditRow, RowKind
from strongroom.audit.sealing import PlainSealer
from strongroom.audit.sqlite_log import SqliteAuditLog
from strongroom.audit.trail import AuditTrail, to_us
from strongroom.audit.verify import Finding, verify_export
from strongroom.storage.sqlite import SqliteStore

ACCOUNTS = ("111122223333", "444455556666")
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[AuditTrail, SqliteStore]]:
    path = str(tmp_path / "s.db")
    store = SqliteStore(path)
    trail = AuditTrail(SqliteAuditLog(path), PlainSealer(), lambda a: True)
    yield trail, store
    trail.close()
    store.close()


def add(trail: AuditTrail, n: int, at: datetime, account: str = ACCOUNTS[0]) -> list[str]:
    rows = []
    for i in range(n):
        event_id = f"{account}-{at.timestamp():.0f}-{i}"
        record = {"eventID": event_id, "eventTime": at.isoformat(), "recipientAccountId": account}
        rows.append(
            AuditRow(
                RowKind.EVENT,
                event_id,
                account,
                "us-east-1",
                to_us(at + timedelta(seconds=i)),
                True,
                (("n", "GetCallerIdentity"),),
                json.dumps(record).encode(),
            )
        )
    trail.log.append(rows, to_us(at))
    return [r.event_id for r in rows]


def exported_ids(root: Path) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.json.gz")):
        if LOG_NAME.fullmatch(path.name):
            out += [r["eventID"] for r in json.loads(gzip.decompress(path.read_bytes()))["Records"]]
    return out


def export(env: tuple[AuditTrail, SqliteStore], dest: Path, now: datetime) -> Exporter:
    trail, store = env
    exporter = Exporter(trail, store, dest)
    exporter.run(now)
    return exporter


def chain(env: tuple[AuditTrail, SqliteStore], dest: Path) -> Exporter:
    """Three exports (three digests) over two accounts and slices."""
    trail, _ = env
    add(trail, 3, T0)
    add(trail, 2, T0, ACCOUNTS[1])
    exporter = export(env, dest, T0 + timedelta(minutes=1))
    add(trail, 4, T0 + timedelta(minutes=7))
    export(env, dest, T0 + timedelta(minutes=8))
    add(trail, 2, T0 + timedelta(minutes=20))
    export(env, dest, T0 + timedelta(minutes=21))
    return exporter


def findings(dest: Path, **kw: object) -> dict[Finding, list[str]]:
    report = verify_export(dest, **kw)  # type: ignore[arg-type]
    out: dict[Finding, list[str]] = {}
    for r in report.results:
        out.setdefault(r.finding, []).append(r.path)
    return out


def files(dest: Path, pattern: object) -> list[Path]:
    return sorted(p for p in dest.rglob("*.json.gz") if pattern.fullmatch(p.name))  # type: ignore[attr-defined]


def test_layout_names_and_content(env: tuple[AuditTrail, SqliteStore], tmp_path: Path) -> None:
    trail, _ = env
    ids = add(trail, 3, T0) + add(trail, 1, T0 + timedelta(minutes=6))
    dest = tmp_path / "out"
    exporter = export(env, dest, T0 + timedelta(minutes=10))
    logs = files(dest, LOG_NAME)
    # One file per 5-minute slice, named and placed as CloudTrail does.
    assert [p.name[:45] for p in logs] == [
        "111122223333_CloudTrail_us-east-1_20240501T1200Z_"[:45],
        "111122223333_CloudTrail_us-east-1_20240501T1205Z_"[:45],
    ]
    assert all(
        p.relative_to(dest)
        .as_posix()
        .startswith("AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/")
        for p in logs
    )
    assert exported_ids(dest) == ids
    [digest] = files(dest, DIGEST_NAME)
    content = json.loads(gzip.decompress(digest.read_bytes()))
    assert content["digestSignatureAlgorithm"] == "SHA256withRSA"
    assert content["previousDigestSignature"] is None and len(content["logFiles"]) == 2
    assert digest.with_name(digest.name + ".sig").exists()
    # The public key exported beside it is the one the store keeps.
    [pem] = (dest / "public-keys").glob("*.pem")
    key = load_public_pem(pem.read_bytes())
    stored = DigestKeys(env[1]).public_key("111122223333")
    assert stored is not None and public_fingerprint(key) == stored.fingerprint
    assert exporter.expected_heads() == {
        "111122223333/us-east-1": digest.relative_to(dest).as_posix()
    }


def test_untampered_chain_verifies_and_events_are_exported_once(
    env: tuple[AuditTrail, SqliteStore], tmp_path: Path
) -> None:
    dest = tmp_path / "out"
    exporter = chain(env, dest)
    report = verify_export(dest, expected_heads=exporter.expected_heads())
    # Each run signs a digest per chain (two accounts), with or without files.
    assert report.ok() and report.digests_valid == 6 and report.log_files_valid == 4
    ids = exported_ids(dest)
    assert len(ids) == len(set(ids)) == 11
    # Nothing new: a run adds no log file, only an empty digest per chain.
    assert exporter.run(T0 + timedelta(minutes=30)).log_files == 0
    assert verify_export(dest).ok()


def test_modified_log_file(env: tuple[AuditTrail, SqliteStore], tmp_path: Path) -> None:
    dest = tmp_path / "out"
    chain(env, dest)
    target = files(dest, LOG_NAME)[1]
    records = json.loads(gzip.decompress(target.read_bytes()))
    records["Records"][0]["eventName"] = "Innocent"
    target.write_bytes(gzip.compress(json.dumps(records).encode()))
    found = findings(dest)
    assert found.get(Finding.MODIFIED) == [target.relative_to(dest).as_posix()]


def test_deleted_log_file(env: tuple[AuditTrail, SqliteStore], tmp_path: Path) -> None:
    dest = tmp_path / "out"
    chain(env, dest)
    target = files(dest, LOG_NAME)[0]
    target.unlink()
    assert findings(dest).get(Finding.DELETED) == [target.relative_to(dest).as_posix()]


def test_inserted_log_file(env: tuple[AuditTrail, SqliteStore], tmp_path: Path) -> None:
    dest = tmp_path / "out"
    chain(env, dest)
    original = files(dest, LOG_NAME)[0]
    planted = original.with_name(original.name.replace(original.name[-24:-8], "PLANTEDPLANTED00"))
    shutil.copy(original, planted)
    found = findings(dest)
    assert found.get(Finding.INSERTED) == [planted.relative_to(dest).as_posix()]
    assert Finding.MODIFIED not in found and Finding.DELETED not in found


def test_modified_digest(env: tuple[AuditTrail, SqliteStore], tmp_path: Path) -> None:
    dest = tmp_path / "out"
    chain(env, dest)
    digest = files(dest, DIGEST_NAME)[0]
    content = json.loads(gzip.decompress(digest.read_bytes()))
    content["logFiles"] = content["logFiles"][1:]  # hide a log file from the digest
    digest.write_bytes(gzip.compress(json.dumps(content).encode()))
    found = findings(dest)
    assert digest.relative_to(dest).as_posix() in found[Finding.MODIFIED]


def test_deleted_digest_in_the_middle(env: tuple[AuditTrail, SqliteStore], tmp_path: Path) -> None:
    dest = tmp_path / "out"
    chain(env, dest)
    digests = [d for d in files(dest, DIGEST_NAME) if d.name.startswith(ACCOUNTS[0])]
    middle = digests[1]
    middle.unlink()
    middle.with_name(middle.name + ".sig").unlink()
    found = findings(dest)
    assert middle.relative_to(dest).as_posix() in found[Finding.DELETED]
    assert Finding.OK in found  # the rest is still checked


def test_deleted_newest_digest_needs_the_store(
    env: tuple[AuditTrail, SqliteStore], tmp_path: Path
) -> None:
    dest = tmp_path / "out"
    exporter = chain(env, dest)
    newest = [d for d in files(dest, DIGEST_NAME) if d.name.startswith(ACCOUNTS[0])][-1]
    heads = exporter.expected_heads()
    newest.unlink()
    newest.with_name(newest.name + ".sig").unlink()
    found = findings(dest, expected_heads=heads)
    assert newest.relative_to(dest).as_posix() in found[Finding.DELETED]


def test_inserted_digest_from_another_export(
    env: tuple[AuditTrail, SqliteStore], tmp_path: Path
) -> None:
    dest, other = tmp_path / "out", tmp_path / "other"
    chain(env, dest)
    export(env, other, T0 + timedelta(minutes=40))  # same key, its own chain
    foreign = files(other, DIGEST_NAME)[0]
    target = dest / foreign.relative_to(other)
    shutil.copy(foreign, target)
    shutil.copy(foreign.with_name(foreign.name + ".sig"), target.with_name(target.name + ".sig"))
    found = findings(dest)
    assert target.relative_to(dest).as_posix() in found[Finding.INSERTED]


def test_forged_signature_with_another_key(
    env: tuple[AuditTrail, SqliteStore], tmp_path: Path
) -> None:
    dest = tmp_path / "out"
    chain(env, dest)
    digest = files(dest, DIGEST_NAME)[0]
    sig = digest.with_name(digest.name + ".sig")
    sig.write_text("00" * 256)
    assert digest.relative_to(dest).as_posix() in findings(dest)[Finding.MODIFIED]


def test_continuous_export_writes_files_then_hourly_digests(
    env: tuple[AuditTrail, SqliteStore], tmp_path: Path
) -> None:
    trail, store = env
    dest = tmp_path / "live"
    exporter = Exporter(trail, store, dest)
    add(trail, 2, T0)
    report = exporter.continuous(T0 + timedelta(minutes=1))
    assert report.log_files == 1 and report.digests == 0
    report = verify_export(dest)
    assert not report.ok() and report.ok(allow_pending=True)  # written, not yet digested
    add(trail, 1, T0 + timedelta(minutes=30))
    assert exporter.continuous(T0 + timedelta(minutes=31)).digests == 0
    assert exporter.continuous(T0 + timedelta(hours=2)).digests == 1
    assert verify_export(dest).ok()
