"""Validate an exported trail: digest signatures, the digest chain, log file hashes.

What it finds, file by file:

* MODIFIED  a log file whose content no longer has the hash its digest
            holds; a digest whose signature fails or that cannot be read;
* DELETED   a log file a digest lists that is gone; a digest the next one
            points to that is gone (and, given the exporting store's record
            of the newest digest, a deleted chain head);
* INSERTED  a log file no digest lists; a digest outside the chain; any
            other file under AWSLogs/;
* PENDING   a log file newer than the newest digest (continuous export
            writes the digest hourly); a failure unless allowed.

The public keys come from ``public-keys/`` in the export unless given: that
proves the files are consistent with themselves. Pin the keys (``--data-dir``
of the exporting Strongroom, or CloudTrail ListPublicKeys) to prove who
signed them.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from strongroom.audit.digest_keys import load_public_pem, public_fingerprint, verify_signature
from strongroom.audit.files import (
    DIGEST_NAME,
    LOG_NAME,
    PUBLIC_KEYS_DIR,
    SIGNATURE_SUFFIX,
    parse_iso,
    sha256_hex,
    signing_string,
)


class Finding(Enum):
    OK = "OK"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"
    INSERTED = "INSERTED"
    PENDING = "PENDING"


@dataclass(frozen=True)
class Result:
    finding: Finding
    path: str
    detail: str = ""


@dataclass
class VerifyReport:
    results: list[Result] = field(default_factory=list)
    digests_valid: int = 0
    log_files_valid: int = 0

    def ok(self, *, allow_pending: bool = False) -> bool:
        accepted = {Finding.OK, Finding.PENDING} if allow_pending else {Finding.OK}
        return all(r.finding in accepted for r in self.results)

    def add(self, finding: Finding, path: str, detail: str = "") -> None:
        self.results.append(Result(finding, path, detail))


@dataclass
class _Digest:
    path: str
    content: bytes
    data: dict[str, Any]
    signature: str
    end: datetime


def load_public_keys(root: Path) -> dict[str, RSAPublicKey]:
    keys: dict[str, RSAPublicKey] = {}
    folder = root / PUBLIC_KEYS_DIR
    if folder.is_dir():
        for pem in sorted(folder.glob("*.pem")):
            key = load_public_pem(pem.read_bytes())
            keys[public_fingerprint(key)] = key  # by content, not by file name
    return keys


def _read_gzip(path: Path) -> bytes | None:
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile):
        return None


def verify_export(
    root: Path,
    *,
    public_keys: dict[str, RSAPublicKey] | None = None,
    expected_heads: dict[str, str] | None = None,
) -> VerifyReport:
    """Check everything under ``root/AWSLogs``; ``expected_heads`` maps
    "account/region" to the newest digest the exporter wrote."""
    root = Path(root)
    keys = public_keys if public_keys is not None else load_public_keys(root)
    report = VerifyReport()
    digests: dict[str, list[Path]] = defaultdict(list)
    logs: dict[str, Path] = {}
    for path in sorted((root / "AWSLogs").rglob("*")) if (root / "AWSLogs").exists() else []:
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if (m := DIGEST_NAME.fullmatch(path.name)) and "/CloudTrail-Digest/" in rel:
            digests[f"{m['account']}/{m['region']}"].append(path)
        elif LOG_NAME.fullmatch(path.name) and "/CloudTrail/" in rel:
            logs[rel] = path
        elif rel.endswith(SIGNATURE_SUFFIX) and (root / rel[: -len(SIGNATURE_SUFFIX)]).exists():
            continue
        else:
            report.add(Finding.INSERTED, rel, "not a file an export writes")
    referenced: set[str] = set()
    heads: dict[str, datetime] = {}
    for chain in sorted(set(digests) | set(expected_heads or {})):
        head = _verify_chain(
            root,
            chain,
            digests.get(chain, []),
            keys,
            (expected_heads or {}).get(chain),
            report,
            logs,
            referenced,
        )
        if head is not None:
            heads[chain] = head
    for rel in sorted(set(logs) - referenced):
        m = LOG_NAME.fullmatch(Path(rel).name)
        assert m is not None
        head_end = heads.get(f"{m['account']}/{m['region']}")
        stamp = datetime.strptime(m["stamp"], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
        if head_end is not None and stamp >= head_end - timedelta(minutes=10):
            report.add(Finding.PENDING, rel, "newer than the newest digest: not yet covered")
        elif head_end is None and not digests:
            report.add(Finding.PENDING, rel, "no digest covers it yet")
        else:
            report.add(Finding.INSERTED, rel, "listed in no digest")
    return report


def _load_digest(root: Path, path: Path, report: VerifyReport) -> _Digest | None:
    rel = path.relative_to(root).as_posix()
    content = _read_gzip(path)
    sig_path = path.with_name(path.name + SIGNATURE_SUFFIX)
    if content is None:
        report.add(Finding.MODIFIED, rel, "digest is not a readable gzip file")
        return None
    if not sig_path.exists():
        report.add(Finding.MODIFIED, rel, "digest signature file is missing")
        return None
    try:
        data = json.loads(content)
        end = parse_iso(data["digestEndTime"])
    except (ValueError, KeyError, TypeError):
        report.add(Finding.MODIFIED, rel, "digest content is not a valid digest")
        return None
    return _Digest(rel, content, data, sig_path.read_text().strip(), end)


def _check_signature(digest: _Digest, keys: dict[str, RSAPublicKey], report: VerifyReport) -> bool:
    data = digest.data
    key = keys.get(str(data.get("digestPublicKeyFingerprint")))
    if key is None:
        report.add(Finding.MODIFIED, digest.path, "signed with an unknown public key")
        return False
    if data.get("digestS3Object") != digest.path:
        report.add(Finding.MODIFIED, digest.path, "digest was moved or renamed")
        return False
    message = signing_string(
        data["digestEndTime"],
        str(data.get("digestS3Bucket")),
        digest.path,
        digest.content,
        data.get("previousDigestSignature"),
    )
    try:
        signature = bytes.fromhex(digest.signature)
    except ValueError:
        signature = b""
    if not verify_signature(key, signature, message):
        report.add(Finding.MODIFIED, digest.path, "digest signature does not verify")
        return False
    return True


def _likely_head(valid: dict[str, _Digest], ordered: list[_Digest]) -> _Digest | None:
    """Without the exporter's record, the head of the longest chain: a digest
    copied in from elsewhere (signed by the same key) starts a chain of its
    own, shorter than the trail's."""
    referenced = {d.data.get("previousDigestS3Object") for d in ordered}
    best: tuple[int, _Digest] | None = None
    for head in ordered:  # newest first, so ties go to the newest
        if head.path in referenced:
            continue
        length = 0
        current: _Digest | None = head
        seen: set[str] = set()
        while current is not None and current.path not in seen:
            seen.add(current.path)
            length += 1
            current = valid.get(str(current.data.get("previousDigestS3Object")))
        if best is None or length > best[0]:
            best = (length, head)
    return best[1] if best is not None else None


def _verify_chain(
    root: Path,
    chain: str,
    paths: list[Path],
    keys: dict[str, RSAPublicKey],
    expected_head: str | None,
    report: VerifyReport,
    logs: dict[str, Path],
    referenced: set[str],
) -> datetime | None:
    loaded = [d for d in (_load_digest(root, p, report) for p in paths) if d is not None]
    valid = {d.path: d for d in loaded if _check_signature(d, keys, report)}
    ordered = sorted(valid.values(), key=lambda d: d.end, reverse=True)
    start = _likely_head(valid, ordered)
    if expected_head is not None:
        if expected_head in valid:
            start = valid[expected_head]  # anything newer was planted
        elif not (root / expected_head).exists():
            report.add(Finding.DELETED, expected_head, "the newest digest of this trail is gone")
    in_chain: list[_Digest] = []
    current = start
    while current is not None:
        in_chain.append(current)
        prev_path = current.data.get("previousDigestS3Object")
        if not prev_path:
            break
        prev = valid.get(prev_path)
        if prev is None:
            if not (root / prev_path).exists():
                report.add(Finding.DELETED, prev_path, f"digest referenced by {current.path}")
            # Resume from the newest valid digest older than the gap, so the
            # files of older digests are still checked.
            prev = next((d for d in ordered if d.end < current.end and d not in in_chain), None)
        elif sha256_hex(prev.content) != current.data.get(
            "previousDigestHashValue"
        ) or prev.signature != current.data.get("previousDigestSignature"):
            report.add(Finding.MODIFIED, prev.path, f"does not match what {current.path} recorded")
        current = prev if prev is not None and prev not in in_chain else None
    for digest in ordered:
        if digest not in in_chain:
            report.add(Finding.INSERTED, digest.path, "digest is not part of the trail's chain")
    for digest in in_chain:
        report.digests_valid += 1
        report.add(Finding.OK, digest.path, "digest")
        for entry in digest.data.get("logFiles") or []:
            rel = str(entry.get("s3Object"))
            referenced.add(rel)
            path = logs.get(rel)
            if path is None:
                report.add(Finding.DELETED, rel, f"listed in {digest.path}")
                continue
            content = _read_gzip(path)
            if content is None or sha256_hex(content) != entry.get("hashValue"):
                report.add(Finding.MODIFIED, rel, "hash differs from the digest's")
                continue
            report.log_files_valid += 1
            report.add(Finding.OK, rel)
    return start.end if start is not None else None
