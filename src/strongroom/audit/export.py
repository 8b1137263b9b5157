"""Export the trail as CloudTrail log files with signed, chained digests.

Events are exported in commit order (``seq``, which every process hands out
in commit order), from a cursor kept in the sealed store per destination
directory, so repeated runs (the ``audit export`` command, or the continuous-export job
every minute) write each event exactly once. Each run writes one gzip
``{"Records": [...]}`` file per account, region and 5-minute slice, then,
per account and region, a digest of the files written since the previous
digest: every hour for continuous export, at the end of the run for the
one-shot command (``flush``). Each digest holds the SHA-256 of its log
files and of the previous digest, and the previous digest's signature, and
is signed with the account's RSA key (:mod:`strongroom.audit.digest_keys`).

The export state also lives in the sealed store, not in the directory: a
tampered directory cannot make the next digest vouch for a planted file.

Crash safety: the files a run is about to write are listed in the state
first; a run that finds such a list deletes those files (they were never
committed to the state) and exports their events again.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import string
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from strongroom.audit.digest_keys import ALGORITHM, DigestKeys
from strongroom.audit.files import (
    DEFAULT_BUCKET,
    PUBLIC_KEYS_DIR,
    SIGNATURE_SUFFIX,
    digest_file_key,
    gzip_bytes,
    iso,
    log_file_key,
    parse_iso,
    sha256_hex,
    signing_string,
    write_atomic,
)
from strongroom.audit.trail import AuditTrail, Event, from_us
from strongroom.storage.base import Store

SLICE = timedelta(minutes=5)
DIGEST_PERIOD = timedelta(hours=1)
_PAGE = 5000
_UNIQUE = string.ascii_letters + string.digits


class ExportBusy(RuntimeError):
    """Another process is exporting to the same directory."""


@dataclass
class ExportReport:
    events: int = 0
    log_files: int = 0
    digests: int = 0
    destination: str = ""


@dataclass
class _Chain:
    period_start: str
    files: list[dict[str, Any]] = field(default_factory=list)
    last_digest: dict[str, str] | None = None


def destination_id(dest: Path) -> str:
    return hashlib.sha256(str(dest.resolve()).encode()).hexdigest()[:24]


def _floor_slice(value: datetime) -> datetime:
    value = value.astimezone(UTC)
    return value.replace(minute=value.minute - value.minute % 5, second=0, microsecond=0)


def _floor_second(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


class Exporter:
    def __init__(
        self,
        trail: AuditTrail,
        store: Store,
        dest: Path,
        *,
        bucket: str = DEFAULT_BUCKET,
        keys: DigestKeys | None = None,
    ) -> None:
        self.trail = trail
        self.store = store
        self.dest = Path(dest).resolve()
        self.bucket = bucket
        self.keys = keys or DigestKeys(store)
        self._dest_id = destination_id(self.dest)
        self._state_key = f"audit/export/{self._dest_id}"

    # -- entry points ------------------------------------------------------------

    def continuous(self, now: datetime) -> ExportReport:
        """The job: new log files every run, a digest per hour."""
        try:
            return self.run(now, flush=False)
        except ExportBusy:  # a one-shot export to the same place is running
            return ExportReport(destination=str(self.dest))

    def run(self, now: datetime, *, flush: bool = True) -> ExportReport:
        lock = self.store.leader_lock(f"audit-export-{self._dest_id}")
        if not lock.try_acquire():
            raise ExportBusy(f"another process is exporting to {self.dest}")
        try:
            return self._run(now, flush)
        finally:
            lock.release()

    # -- state -----------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        raw = self.store.get(self._state_key)
        if raw is None:
            return {"dest": str(self.dest), "cursor": None, "chains": {}, "pending": []}
        state: dict[str, Any] = json.loads(raw)
        return state

    def _save(self, state: dict[str, Any]) -> None:
        self.store.put(self._state_key, json.dumps(state).encode())

    def _chains(self, state: dict[str, Any]) -> dict[str, _Chain]:
        return {
            name: _Chain(c["period_start"], list(c["files"]), c.get("last_digest"))
            for name, c in state["chains"].items()
        }

    @staticmethod
    def _put_chains(state: dict[str, Any], chains: dict[str, _Chain]) -> None:
        state["chains"] = {
            name: {"period_start": c.period_start, "files": c.files, "last_digest": c.last_digest}
            for name, c in chains.items()
        }

    # -- the run ---------------------------------------------------------------------

    def _run(self, now: datetime, flush: bool) -> ExportReport:
        report = ExportReport(destination=str(self.dest))
        state = self._load()
        for key in state.get("pending", []):  # a run that died before committing
            (self.dest / key).unlink(missing_ok=True)
        state["pending"] = []
        until = now
        chains = self._chains(state)
        cursor = int(state["cursor"] or 0)
        # Only what was committed when the run began: the digest ends "now".
        horizon = self.trail.log.last_seq()
        while cursor < horizon:
            page = [e for e in self.trail.log.after(cursor, _PAGE) if e.seq <= horizon]
            if not page:
                break
            groups: dict[tuple[str, str, datetime], list[Event]] = defaultdict(list)
            for stored in page:
                event = self.trail.open(stored)
                groups[(stored.account, stored.region, _floor_slice(event.event_time))].append(
                    event
                )
            planned = {
                group: log_file_key(group[0], group[1], group[2], _unique()) for group in groups
            }
            state["pending"] = list(planned.values())
            self._put_chains(state, chains)
            self._save(state)
            for group, events in groups.items():
                self._write_log_file(group, events, planned[group], chains)
            report.log_files += len(groups)
            report.events += len(page)
            cursor = page[-1].seq
            state["cursor"] = cursor
            state["pending"] = []
            self._put_chains(state, chains)
            self._save(state)
        for name, chain in chains.items():
            due = parse_iso(chain.period_start) + DIGEST_PERIOD <= until
            if (flush or due) and self._write_digest(name, chain, now, until):
                report.digests += 1
        self._put_chains(state, chains)
        self._save(state)
        return report

    def _write_log_file(
        self,
        group: tuple[str, str, datetime],
        events: list[Event],
        key: str,
        chains: dict[str, _Chain],
    ) -> None:
        account, region, _ = group
        events.sort(key=lambda e: (e.stored.event_time_us, e.stored.seq))
        content = json.dumps(
            {"Records": [e.record for e in events]}, separators=(",", ":"), ensure_ascii=False
        ).encode()
        write_atomic(self.dest, key, gzip_bytes(content))
        name = f"{account}/{region}"
        chain = chains.get(name)
        if chain is None:
            oldest = from_us(min(e.stored.recorded_at_us for e in events))
            chain = chains[name] = _Chain(iso(_floor_second(oldest)))
        chain.files.append(
            {
                "s3Bucket": self.bucket,
                "s3Object": key,
                "hashValue": sha256_hex(content),
                "hashAlgorithm": "SHA-256",
                "newestEventTime": iso(events[-1].event_time),
                "oldestEventTime": iso(events[0].event_time),
            }
        )

    def _write_digest(self, name: str, chain: _Chain, now: datetime, until: datetime) -> bool:
        account, region = name.split("/", 1)
        start = parse_iso(chain.period_start)
        end = max(_floor_second(until), start + timedelta(seconds=1))
        if not chain.files and end <= start:
            return False
        fingerprint = self.keys.fingerprint(account, now)
        key = digest_file_key(account, region, end)
        prev = chain.last_digest
        files = chain.files
        digest = {
            "awsAccountId": account,
            "digestStartTime": iso(start),
            "digestEndTime": iso(end),
            "digestS3Bucket": self.bucket,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": fingerprint,
            "digestSignatureAlgorithm": ALGORITHM,
            "newestEventTime": max((f["newestEventTime"] for f in files), default=None),
            "oldestEventTime": min((f["oldestEventTime"] for f in files), default=None),
            "previousDigestS3Bucket": self.bucket if prev else None,
            "previousDigestS3Object": prev["s3Object"] if prev else None,
            "previousDigestHashValue": prev["hashValue"] if prev else None,
            "previousDigestHashAlgorithm": "SHA-256" if prev else None,
            "previousDigestSignature": prev["signature"] if prev else None,
            "logFiles": files,
        }
        content = json.dumps(digest, separators=(",", ":")).encode()
        message = signing_string(
            iso(end), self.bucket, key, content, prev["signature"] if prev else None
        )
        signature = self.keys.sign(account, message, now).hex()
        self._write_public_key(account)
        write_atomic(self.dest, key, gzip_bytes(content))
        write_atomic(self.dest, key + SIGNATURE_SUFFIX, signature.encode())
        chain.last_digest = {
            "s3Object": key,
            "hashValue": sha256_hex(content),
            "signature": signature,
            "end": iso(end),
        }
        chain.period_start = iso(end)
        chain.files = []
        return True

    def _write_public_key(self, account: str) -> None:
        public = self.keys.public_key(account)
        if public is None:
            return
        key = f"{PUBLIC_KEYS_DIR}/{account}-{public.fingerprint}.pem"
        if not (self.dest / key).exists():
            write_atomic(self.dest, key, public.pem())

    def expected_heads(self) -> dict[str, str]:
        """Per "account/region", the newest digest this store wrote here (for verify)."""
        state = self._load()
        return {
            name: c["last_digest"]["s3Object"]
            for name, c in state["chains"].items()
            if c.get("last_digest")
        }


def _unique() -> str:
    return "".join(secrets.choice(_UNIQUE) for _ in range(16))
