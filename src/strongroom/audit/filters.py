"""Match a stored CloudTrail record against one LookupEvents-style attribute.

The database answers lookups through its index; ``audit tail`` follows new
events in commit order and filters them here, with the same meaning.
"""

from __future__ import annotations

from typing import Any

from strongroom.audit.resources import arn_type, named_in_record


def username_of(record: dict[str, Any]) -> str | None:
    """LookupEvents' Username: the IAM user name, "root", or the session name."""
    ident = record.get("userIdentity") or {}
    kind = ident.get("type")
    if kind == "IAMUser":
        name = ident.get("userName")
        return str(name) if name else None
    if kind == "Root":
        return "root"
    arn = ident.get("arn")
    if isinstance(arn, str) and "/" in arn:
        return arn.rsplit("/", 1)[-1]
    name = ident.get("userName")  # the operator of an admin command (admin_events)
    return str(name) if name else None


def resources_of(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, name) pairs: declared resources by ARN, then those the request named."""
    out: list[tuple[str, str]] = []
    for item in record.get("resources") or []:
        if isinstance(item, dict) and isinstance(item.get("ARN"), str):
            out.append((str(item.get("type") or arn_type(item["ARN"])), item["ARN"]))
    listed = {name for _, name in out}
    out += [(t, n) for t, n in named_in_record(record) if n not in listed]
    return out


def matches(record: dict[str, Any], attribute: str | None, value: str | None) -> bool:
    if attribute is None:
        return True
    ident = record.get("userIdentity") or {}
    if attribute == "EventId":
        return record.get("eventID") == value
    if attribute == "EventName":
        return record.get("eventName") == value
    if attribute == "EventSource":
        return record.get("eventSource") == value
    if attribute == "ReadOnly":
        return str(bool(record.get("readOnly"))).lower() == str(value).lower()
    if attribute == "Username":
        return username_of(record) == value
    if attribute == "AccessKeyId":
        return ident.get("accessKeyId") == value
    if attribute == "ResourceType":
        return any(t == value for t, _ in resources_of(record))
    if attribute == "ResourceName":
        return any(n == value or n.rsplit("/", 1)[-1] == value for _, n in resources_of(record))
    raise ValueError(f"unknown lookup attribute {attribute!r}")
