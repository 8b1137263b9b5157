"""Secrets Manager's non-API events, in the shape AWS delivers them.

AWS records rotation and version-deletion happenings as CloudTrail
``AwsServiceEvent`` entries (RotationStarted, RotationSucceeded,
RotationFailed, RotationAbandoned, StartSecretVersionDelete,
CancelSecretVersionDelete, EndSecretVersionDelete), which EventBridge
delivers with detail-type "AWS Service Event via CloudTrail" and source
"aws.secretsmanager". Events are published after the change they report
has committed, and never carry a secret value.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from strongroom.events.bus import event_bus

if TYPE_CHECKING:
    from strongroom.platform import Platform

log = logging.getLogger("strongroom.secretsmanager")

SOURCE = "aws.secretsmanager"
DETAIL_TYPE = "AWS Service Event via CloudTrail"
SERVICE_HOST = "secretsmanager.amazonaws.com"

ROTATION_STARTED = "RotationStarted"
ROTATION_SUCCEEDED = "RotationSucceeded"
ROTATION_FAILED = "RotationFailed"
ROTATION_ABANDONED = "RotationAbandoned"
START_DELETE = "StartSecretVersionDelete"
CANCEL_DELETE = "CancelSecretVersionDelete"
END_DELETE = "EndSecretVersionDelete"


def service_event_detail(
    event_name: str,
    account: str,
    region: str,
    now: datetime,
    additional: Mapping[str, Any],
    *,
    error_message: str | None = None,
) -> dict[str, Any]:
    """The CloudTrail record of a service event (the EventBridge ``detail``)."""
    detail: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {"accountId": account, "invokedBy": SERVICE_HOST},
        "eventTime": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": SERVICE_HOST,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": SERVICE_HOST,
        "userAgent": SERVICE_HOST,
        "requestParameters": None,
        "responseElements": None,
        "additionalEventData": dict(additional),
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsServiceEvent",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if error_message is not None:
        detail["errorMessage"] = error_message
    return detail


def publish(
    platform: Platform,
    event_name: str,
    account: str,
    region: str,
    secret_arn: str,
    additional: Mapping[str, Any] | None = None,
    *,
    error_message: str | None = None,
) -> None:
    """Publish one service event; a failure to publish never fails the caller."""
    data = {"SecretId": secret_arn, **(additional or {})}
    detail = service_event_detail(
        event_name, account, region, platform.clock(), data, error_message=error_message
    )
    try:
        event_bus(platform).publish(account, region, SOURCE, DETAIL_TYPE, detail, [secret_arn])
    except Exception:  # the change it reports has already committed
        log.exception("could not publish the %s event for %s", event_name, secret_arn)
