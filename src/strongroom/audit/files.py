"""CloudTrail's file layout and digest signing string, shared by export and verify.

Log files:   AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
             <account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<unique>.json.gz
Digests:     AWSLogs/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
             <account>_CloudTrail-Digest_<region>_<trail>_<region>_YYYYMMDDTHHmmssZ.json.gz
Signatures:  beside each digest, ``<digest>.sig`` holding the hex signature
             (CloudTrail keeps it in the S3 object's metadata, which a
             directory does not have).
Public keys: public-keys/<account>-<fingerprint>.pem

Hashes are SHA-256 of the *uncompressed* file content, as CloudTrail's
``hashValue`` and ``previousDigestHashValue`` are. The signing string is
CloudTrail's: digestEndTime, "bucket/object" of the digest, the hex SHA-256
of the uncompressed digest, and the previous digest's hex signature ("null"
for the first), joined with newlines.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path

TRAIL_NAME = "default"
DEFAULT_BUCKET = "strongroom-audit"
SIGNATURE_SUFFIX = ".sig"
PUBLIC_KEYS_DIR = "public-keys"

LOG_NAME = re.compile(
    r"(?P<account>\d{12})_CloudTrail_(?P<region>[a-z0-9-]+)_(?P<stamp>\d{8}T\d{4}Z)_[A-Za-z0-9]+\.json\.gz"
)
DIGEST_NAME = re.compile(
    r"(?P<account>\d{12})_CloudTrail-Digest_(?P<region>[a-z0-9-]+)_[A-Za-z0-9_.-]+?_"
    r"[a-z0-9-]+_(?P<stamp>\d{8}T\d{6}Z)\.json\.gz"
)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _day(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y/%m/%d")


def log_file_key(account: str, region: str, slice_start: datetime, unique: str) -> str:
    stamp = slice_start.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    return (
        f"AWSLogs/{account}/CloudTrail/{region}/{_day(slice_start)}/"
        f"{account}_CloudTrail_{region}_{stamp}_{unique}.json.gz"
    )


def digest_file_key(account: str, region: str, end: datetime) -> str:
    stamp = end.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return (
        f"AWSLogs/{account}/CloudTrail-Digest/{region}/{_day(end)}/"
        f"{account}_CloudTrail-Digest_{region}_{TRAIL_NAME}_{region}_{stamp}.json.gz"
    )


def signing_string(
    digest_end: str, bucket: str, key: str, digest_content: bytes, previous_signature: str | None
) -> bytes:
    digest_hash = hashlib.sha256(digest_content).hexdigest()
    return f"{digest_end}\n{bucket}/{key}\n{digest_hash}\n{previous_signature or 'null'}".encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(root: Path, key: str, data: bytes) -> None:
    """Write ``root/key`` so that a reader never sees half a file."""
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)
