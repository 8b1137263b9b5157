"""Background work: deleting keys whose waiting period ended, rotating keys
that are due, and expiring imported key material.

Due work is indexed under ``kms/due/<kind>/<time>/…`` (records.py), so each
run reads only what is due instead of every key. The platform's job runner
calls :meth:`KmsJobs.run` on one process across all nodes.

Each step also says what it did as KMS EventBridge events (events.py); they
are published once the step's transaction has committed, so a step that
fails and is retried later reports nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from strongroom.crypto import kms as kms_crypto
from strongroom.services.kms import events as kms_events
from strongroom.services.kms import records as rec
from strongroom.services.kms.events import KeyEvent, KmsEvents
from strongroom.services.kms.records import KeyRecord, KeyState
from strongroom.services.kms.repository import KmsRepository, KmsTxn
from strongroom.services.kms.rotation import rotate
from strongroom.services.kms.usage import UsageTracker

log = logging.getLogger("strongroom.kms.jobs")

EVERY_SECONDS = 30.0


def _due(repo: KmsRepository, kind: str, now: datetime) -> list[tuple[str, str, str, str]]:
    """(when, account, region, key id) of the ``kind`` entries due at ``now``."""
    horizon = rec.iso(now)
    out = []
    for path, _ in repo.store.iter_scan(f"{rec.DUE}{kind}/"):
        _, when, account, region, key_id = rec.parse_due_path(path)
        if when > horizon:
            break
        out.append((when, account, region, key_id))
    return out


class KmsJobs:
    def __init__(
        self, repo: KmsRepository, usage: UsageTracker, events: KmsEvents | None = None
    ) -> None:
        self.repo = repo
        self.usage = usage
        # None: the work is done but announced nowhere (tools without a platform).
        self.events = events

    def run(self, now: datetime) -> None:
        for kind, step in (
            (rec.DUE_EXPIRE, self._expire),
            (rec.DUE_ROTATE, self._rotate),
            (rec.DUE_DELETE, self._delete),
        ):
            for when, account, region, key_id in _due(self.repo, kind, now):
                happened: list[KeyEvent] = []
                try:
                    with self.repo.write() as txn:
                        record = txn.key(account, region, key_id)
                        done = record is None or step(txn, record, when, now, happened)
                        if done:
                            txn.txn.delete(rec.due_path(kind, when, account, region, key_id))
                except Exception:  # one bad record must not stop the others
                    log.exception("KMS %s job failed for %s/%s/%s", kind, account, region, key_id)
                    continue
                if self.events is not None:
                    self.events.publish(happened)

    # Each step returns True when the due entry is dealt with, and appends to
    # ``happened`` the events its change will announce once committed.

    def _delete(
        self, txn: KmsTxn, record: KeyRecord, when: str, now: datetime, happened: list[KeyEvent]
    ) -> bool:
        if record.state != KeyState.PENDING_DELETION.value or record.deletion_date != when:
            return True  # canceled or rescheduled: a stale entry
        destroy(txn, record, now)
        self.usage.forget(record.account, record.region, record.key_id)
        kms_crypto.clear_cache()
        happened.append(kms_events.deletion(record))
        return True

    def _rotate(
        self, txn: KmsTxn, record: KeyRecord, when: str, now: datetime, happened: list[KeyEvent]
    ) -> bool:
        if not record.rotation_enabled or record.next_rotation != when:
            return True
        if record.state != KeyState.ENABLED.value:
            return False  # KMS does not rotate a key that is not enabled; retry later
        previous = record.current_material()
        rotate(txn, record, now, "AUTOMATIC")
        happened.append(kms_events.rotation(record, "AUTOMATIC", previous.id if previous else None))
        period = timedelta(days=record.rotation_period_days or 365)
        following = rec.parse_iso(when) + period
        if following <= now:
            following = now + period
        record.next_rotation = rec.iso(following)
        txn.put_due(rec.DUE_ROTATE, record.next_rotation, record)
        txn.put_key(record)
        return True

    def _expire(
        self, txn: KmsTxn, record: KeyRecord, when: str, now: datetime, happened: list[KeyEvent]
    ) -> bool:
        changed = False
        for material in record.materials:
            expired = material.valid_to is not None and material.valid_to <= rec.iso(now)
            if expired and material.secret is not None:
                material.secret = None
                changed = True
        if changed:
            if record.current_material() is None and record.state in (
                KeyState.ENABLED.value,
                KeyState.DISABLED.value,
            ):
                record.state = KeyState.PENDING_IMPORT.value
            txn.put_key(record)
            kms_crypto.clear_cache()
            happened.append(kms_events.expiration(record))
        return True


def destroy(txn: KmsTxn, record: KeyRecord, now: datetime) -> None:
    """Delete a key for good: its record (and with it the key material), aliases,
    grants and usage. A replica leaves its primary's replica list; a primary
    waiting for its replicas starts its own waiting period once the last goes."""
    for alias in record.aliases:
        txn.delete_alias(record.account, record.region, alias)
    for grant in txn.grants(record.account, record.region, record.key_id):
        txn.delete_grant(grant)
    txn.txn.delete(rec.usage_path(record.account, record.region, record.key_id))
    txn.delete_key(record)
    if not record.multi_region:
        return
    regions = [record.primary_region, *record.replica_regions]
    for region in regions:
        if region is None or region == record.region:
            continue
        peer = txn.key(record.account, region, record.key_id)
        if peer is None:
            continue
        if record.region in peer.replica_regions:
            peer.replica_regions.remove(record.region)
        if (
            peer.is_primary
            and not peer.replica_regions
            and peer.state == KeyState.PENDING_REPLICA_DELETION.value
        ):
            peer.state = KeyState.PENDING_DELETION.value
            peer.deletion_date = rec.iso(now + timedelta(days=peer.pending_window_days or 30))
            txn.put_due(rec.DUE_DELETE, peer.deletion_date, peer)
        txn.put_key(peer)
