"""Parameter policies (advanced tier): parsing, validation and when they act.

(Systems Manager User Guide, "Assigning parameter policies".) ``Policies`` is
a JSON array of up to 10 objects ``{"Type", "Version": "1.0", "Attributes"}``:

* ``Expiration`` ``{"Timestamp": ISO_INSTANT | ISO_OFFSET_DATE_TIME}``: the
  parameter is deleted at that time. Updating the value does not move it.
* ``ExpirationNotification`` ``{"Before": "N", "Unit": "Days" | "Hours"}``:
  an EventBridge event N units before the expiration.
* ``NoChangeNotification`` ``{"After": "N", "Unit": "Days" | "Hours"}``: an
  event when the parameter has not been modified for N units since its
  LastModifiedDate (a new version restarts the clock).

Each policy is stored as AWS shows it (``PolicyText``, ``PolicyType``,
``PolicyStatus``: Pending until acted on, then Finished).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from strongroom.services.ssm import errors

EXPIRATION = "Expiration"
EXPIRATION_NOTIFICATION = "ExpirationNotification"
NO_CHANGE_NOTIFICATION = "NoChangeNotification"
TYPES = (EXPIRATION, EXPIRATION_NOTIFICATION, NO_CHANGE_NOTIFICATION)
MAX_POLICIES = 10
PENDING = "Pending"
FINISHED = "Finished"

_UNITS = {"Days": timedelta(days=1), "Hours": timedelta(hours=1)}
_ATTRIBUTES = {
    EXPIRATION: {"Timestamp"},
    EXPIRATION_NOTIFICATION: {"Before", "Unit"},
    NO_CHANGE_NOTIFICATION: {"After", "Unit"},
}


@dataclass(frozen=True)
class Policy:
    type: str
    text: str  # the policy object as JSON, compact
    attributes: dict[str, str]

    def inline(self, status: str = PENDING) -> dict[str, str]:
        return {"PolicyText": self.text, "PolicyType": self.type, "PolicyStatus": status}


def _malformed(detail: str) -> Exception:
    return errors.validation(
        f"Invalid policies: {detail}. Policies must be a JSON array of objects with "
        'Type, Version "1.0" and Attributes.'
    )


def parse_timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise errors.invalid_policy_attribute("Expiration Timestamp must be a string.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise errors.invalid_policy_attribute(
            f"Expiration Timestamp {value} is not in ISO_INSTANT or ISO_OFFSET_DATE_TIME format."
        ) from None
    if moment.tzinfo is None:
        raise errors.invalid_policy_attribute(
            f"Expiration Timestamp {value} has no time zone (use Z or an offset)."
        )
    return moment


def duration(policy: dict[str, str], member: str) -> timedelta:
    """``Before``/``After`` with ``Unit`` as a time span."""
    amount, unit = policy.get(member), policy.get("Unit")
    if unit not in _UNITS:
        raise errors.invalid_policy_attribute(f"Unit {unit} isn't valid: specify Days or Hours.")
    if not isinstance(amount, str) or not amount.isdigit() or int(amount) < 1:
        raise errors.invalid_policy_attribute(
            f"{member} must be a positive whole number (as a string), not {amount}."
        )
    return int(amount) * _UNITS[unit]


def _one(item: Any, now: datetime) -> Policy:
    if not isinstance(item, dict):
        raise _malformed("an element is not an object")
    kind = item.get("Type")
    if kind not in TYPES:
        raise errors.invalid_policy_type(kind)
    if item.get("Version") != "1.0":
        raise errors.invalid_policy_attribute(
            f"Version {item.get('Version')} isn't valid for {kind} policies: use 1.0."
        )
    unknown = set(item) - {"Type", "Version", "Attributes"}
    if unknown:
        raise errors.invalid_policy_attribute(f"Unknown policy members: {sorted(unknown)}.")
    attributes = item.get("Attributes")
    if not isinstance(attributes, dict):
        raise errors.invalid_policy_attribute(f"The {kind} policy needs Attributes.")
    if set(attributes) != _ATTRIBUTES[kind]:
        raise errors.invalid_policy_attribute(
            f"The {kind} policy takes exactly the attributes {sorted(_ATTRIBUTES[kind])}."
        )
    clean = {k: v if isinstance(v, str) else json.dumps(v) for k, v in attributes.items()}
    if kind == EXPIRATION:
        if parse_timestamp(attributes["Timestamp"]) <= now:
            raise errors.invalid_policy_attribute(
                f"Expiration Timestamp {attributes['Timestamp']} must be in the future."
            )
    else:
        duration(clean, "Before" if kind == EXPIRATION_NOTIFICATION else "After")
    text = json.dumps(
        {"Type": kind, "Version": "1.0", "Attributes": attributes}, separators=(",", ":")
    )
    return Policy(kind, text, clean)


def parse_policies(text: str, now: datetime) -> list[Policy]:
    try:
        raw = json.loads(text)
    except ValueError:
        raise _malformed("not valid JSON") from None
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise _malformed("not a JSON array")
    if len(raw) > MAX_POLICIES:
        raise errors.policies_limit()
    parsed = [_one(item, now) for item in raw]
    kinds = [p.type for p in parsed]
    for kind in TYPES:
        if kinds.count(kind) > 1:
            raise errors.incompatible_policy(
                f"There is a conflict in the policies specified for this parameter: only one "
                f"{kind} policy is allowed."
            )
    if EXPIRATION_NOTIFICATION in kinds and EXPIRATION not in kinds:
        raise errors.incompatible_policy(
            "An ExpirationNotification policy needs an Expiration policy on the same parameter."
        )
    return parsed


def policy_of(inline: dict[str, str]) -> Policy:
    body = json.loads(inline["PolicyText"])
    attributes = {
        k: v if isinstance(v, str) else json.dumps(v) for k, v in body["Attributes"].items()
    }
    return Policy(inline["PolicyType"], inline["PolicyText"], attributes)


def due_time(inline: list[dict[str, str]], index: int, modified: datetime) -> datetime | None:
    """When policy ``index`` of a version acts (None once Finished)."""
    entry = inline[index]
    if entry["PolicyStatus"] != PENDING:
        return None
    policy = policy_of(entry)
    if policy.type == EXPIRATION:
        return parse_timestamp(policy.attributes["Timestamp"])
    if policy.type == NO_CHANGE_NOTIFICATION:
        return modified + duration(policy.attributes, "After")
    expiry = next((policy_of(e) for e in inline if e["PolicyType"] == EXPIRATION), None)
    if expiry is None:
        return None
    return parse_timestamp(expiry.attributes["Timestamp"]) - duration(policy.attributes, "Before")
