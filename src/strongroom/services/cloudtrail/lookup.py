"""LookupEvents: request validation, page tokens, and the output shape.

A NextToken carries the position (event time and sequence number of the
last event returned) and a fingerprint of the query it belongs to; account
and region always come from the request itself, so a token can only page
through the caller's own events. A token used with different parameters is
refused with InvalidNextTokenException, as CloudTrail does.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any

from strongroom.audit.filters import resources_of, username_of
from strongroom.audit.log import LookupQuery
from strongroom.audit.trail import Event, to_us
from strongroom.errors import ServiceError

MAX_RESULTS = 50
ATTRIBUTE_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)
_MAX_VALUE = 2000


def _error(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, 400)


def _fingerprint(parts: list[Any]) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def build_query(account: str, region: str, params: dict[str, Any]) -> LookupQuery:
    attributes = params.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise _error(
            "InvalidLookupAttributesException",
            "You cannot specify more than one lookup attribute.",
        )
    key = value = None
    if attributes:
        key = attributes[0].get("AttributeKey")
        value = attributes[0].get("AttributeValue")
        if key not in ATTRIBUTE_KEYS:
            raise _error("InvalidLookupAttributesException", f"Invalid AttributeKey: {key}")
        if not isinstance(value, str) or not value or len(value) > _MAX_VALUE:
            raise _error(
                "InvalidLookupAttributesException",
                "AttributeValue must be between 1 and 2000 characters.",
            )
        if key == "ReadOnly":
            value = value.lower()
    start: datetime | None = params.get("StartTime")
    end: datetime | None = params.get("EndTime")
    if start is not None and end is not None and start > end:
        raise _error("InvalidTimeRangeException", "Start time must be before end time.")
    limit = params.get("MaxResults")
    if limit is None:
        limit = MAX_RESULTS
    if not 1 <= int(limit) <= MAX_RESULTS:
        raise _error("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
    start_us = to_us(start) if start is not None else None
    # CloudTrail times have second resolution: an EndTime includes its second.
    end_us = to_us(end) + 999_999 if end is not None else None
    query_id = _fingerprint([key, value, start_us, end_us])
    before = None
    token = params.get("NextToken")
    if token is not None:
        before = _decode_token(token, query_id)
    return LookupQuery(account, region, key, value, start_us, end_us, int(limit), before)


def query_fingerprint(query: LookupQuery) -> str:
    return _fingerprint([query.attribute, query.value, query.start_us, query.end_us])


def encode_token(query: LookupQuery, last: Event) -> str:
    raw = json.dumps(
        [query_fingerprint(query), last.stored.event_time_us, last.stored.seq]
    ).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str, query_id: str) -> tuple[int, int]:
    try:
        fingerprint, time_us, seq = json.loads(base64.urlsafe_b64decode(token.encode()))
        position = (int(time_us), int(seq))
    except (ValueError, TypeError):
        raise _error("InvalidNextTokenException", "Invalid NextToken.") from None
    if fingerprint != query_id:
        raise _error(
            "InvalidNextTokenException",
            "The NextToken was issued for a request with different parameters.",
        )
    return position


def event_output(event: Event) -> dict[str, Any]:
    record = event.record
    out: dict[str, Any] = {
        "EventId": record.get("eventID", event.event_id),
        "EventName": record.get("eventName"),
        "ReadOnly": "true" if record.get("readOnly") else "false",
        "EventTime": event.event_time.replace(microsecond=0),
        "EventSource": record.get("eventSource"),
        "CloudTrailEvent": json.dumps(record, separators=(",", ":")),
    }
    akid = (record.get("userIdentity") or {}).get("accessKeyId")
    if akid:
        out["AccessKeyId"] = akid
    user = username_of(record)
    if user:
        out["Username"] = user
    resources = [{"ResourceType": t, "ResourceName": n} for t, n in resources_of(record)]
    if resources:
        out["Resources"] = resources
    return out
