"""KMS's EventBridge events, in the shapes AWS sends them.

AWS KMS sends three events straight to EventBridge (source ``aws.kms``,
``resources`` the key ARN; AWS KMS Developer Guide, "Monitor KMS keys with
Amazon EventBridge", and the EventBridge events reference for KMS):

* "KMS CMK Rotation" — whenever key material is rotated, automatically or
  on demand; ``detail`` has ``key-id``, ``key-origin``, ``rotation-type``
  and the previous and current key material ids.
* "KMS CMK Deletion" — when a key whose waiting period ended is deleted;
  ``detail`` is ``{"key-id": …}``.
* "KMS Imported Key Material Expiration" — when expired imported key
  material is deleted; ``detail`` is ``{"key-id": …}``.

As for SSM and Secrets Manager, an event is published after the change it
reports has committed (store transactions do not nest), and a failure to
publish is logged, never raised: the change is done either way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strongroom.events.bus import event_bus

if TYPE_CHECKING:
    from strongroom.platform import Platform
    from strongroom.services.kms.records import KeyRecord

log = logging.getLogger("strongroom.kms")

SOURCE = "aws.kms"
ROTATION = "KMS CMK Rotation"
DELETION = "KMS CMK Deletion"
EXPIRATION = "KMS Imported Key Material Expiration"


@dataclass(frozen=True)
class KeyEvent:
    """One event about one key, built inside the transaction, sent after it."""

    detail_type: str
    account: str
    region: str
    arn: str
    detail: dict[str, Any] = field(default_factory=dict)


def rotation(record: KeyRecord, rotation_type: str, previous: str | None) -> KeyEvent:
    """``record`` already holds its new current material."""
    detail: dict[str, Any] = {
        "key-id": record.key_id,
        "key-origin": record.origin,
        "rotation-type": rotation_type,
    }
    if previous is not None:
        detail["previous-key-material-id"] = previous
    current = record.current_material()
    if current is not None:
        detail["current-key-material-id"] = current.id
    return KeyEvent(ROTATION, record.account, record.region, record.arn, detail)


def deletion(record: KeyRecord) -> KeyEvent:
    return KeyEvent(DELETION, record.account, record.region, record.arn, {"key-id": record.key_id})


def expiration(record: KeyRecord) -> KeyEvent:
    return KeyEvent(
        EXPIRATION, record.account, record.region, record.arn, {"key-id": record.key_id}
    )


class KmsEvents:
    """Sends KMS events on the platform's bus (``events.bus.event_bus``)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def publish(self, events: Iterable[KeyEvent]) -> None:
        for event in events:
            try:
                event_bus(self.platform).publish(
                    event.account,
                    event.region,
                    SOURCE,
                    event.detail_type,
                    event.detail,
                    [event.arn],
                )
            except Exception:  # the change it reports has committed already
                log.exception("could not publish %s for %s", event.detail_type, event.arn)
