"""CallFacts -> CloudTrail records, encoded straight to JSON.

Every request pays for this on the event loop, so the top level of the
record is written by hand, in CloudTrail's field order, from pieces that
are mostly cached: everything before eventTime and from eventSource to
userAgent per caller and request shape, the eventTime per second, the
resources and what follows requestID per list of ARNs the operation
declared, the index entries per request shape. Only the request
parameters and response elements go through the JSON encoder (after
redaction), and only when present.

A cross-account call gives one record for the caller's account and one per
other account owning a resource, each with its own ``eventID`` and
``recipientAccountId`` and a common ``sharedEventID``, as CloudTrail
delivers them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring as _quote
from typing import Any

import orjson

from strongroom.audit.log import encode_attrs
from strongroom.audit.readonly import is_read_only, records_response
from strongroom.audit.record import (
    _MAX_TEXT,
    EVENT_VERSION,
    OUTCOME_UNKNOWN,
    CallFacts,
    identity_json,
    new_event_id,
    new_uuid,
    username,
)
from strongroom.audit.redact import redact
from strongroom.audit.resources import (
    Resource,
    arn_account,
    declared_resources,
    named_in_request,
)
from strongroom.protocol.codec import iso_seconds_and_us
from strongroom.protocol.models import ServiceSpec


# eq=False: compared and hashed by identity (one per operation, cached;
# record caches use it in their keys).
@dataclass(frozen=True, slots=True, eq=False)
class _Operation:
    """What never changes between two calls of one operation."""

    read_only: bool
    response: bool  # responseElements recorded
    source_json: str  # '"kms.amazonaws.com"'
    name_json: str
    source_attr: str  # kms.amazonaws.com
    model: Any  # botocore OperationModel, or None


_operations: dict[tuple[ServiceSpec | None, str, str], _Operation] = {}


def _operation(facts: CallFacts) -> _Operation:
    spec, op = facts.spec, facts.operation
    if spec is not None and op is not None:  # routed: the usual case
        key: tuple[ServiceSpec | None, str, str] = (spec, op, "")
    else:
        key = (spec, op or "", f"{facts.source}/{facts.event_name}")
    info = _operations.get(key)
    if info is None:
        source, name = facts.source, facts.event_name
        info = _Operation(
            is_read_only(source, name),
            records_response(source, name),
            _quote(f"{source}.amazonaws.com"),
            _quote(name),
            f"{source}.amazonaws.com",
            spec.operation(op) if spec is not None and op is not None else None,
        )
        if len(_operations) < 10_000:  # garbage operation names are not cached forever
            _operations[key] = info
    return info


@dataclass(slots=True)
class BuiltEvent:
    """One record, as JSON pieces around the parts that differ per copy."""

    head: str  # '{"eventVersion":... "requestID":"..."'
    middle: str  # ',"readOnly":...,"managementEvent":true'
    tail: str  # ',"eventCategory":"Management"...}'
    event_id: str
    account: str  # recipientAccountId
    shared_event_id: str | None
    region: str
    event_time_us: int
    read_only: bool
    attrs: tuple[tuple[str, str], ...]

    def encode(self) -> bytes:
        shared = f',"sharedEventID":"{self.shared_event_id}"' if self.shared_event_id else ""
        return (
            f'{self.head},"eventID":"{self.event_id}"{self.middle},'
            f'"recipientAccountId":"{self.account}"{shared}{self.tail}'
        ).encode()

    @property
    def record(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.encode())
        return value


@dataclass(frozen=True, slots=True, eq=False)
class _Shape:
    """What a record takes from who called what, from where: the same for a
    client's repeated calls (same identity, address and user agent)."""

    principal: Any  # held while cached: its id is part of the key
    op: _Operation
    region: str
    source: str  # the event source prefix (kms)
    recipient: str
    before: str  # '{"eventVersion":...,"eventTime":"'
    after: str  # '","eventSource":...,"userAgent":...'
    # The index entries when the request names no resource (most reads);
    # None when the caller is not authenticated (its claimed key is used).
    attrs: tuple[tuple[str, str], ...] | None


# Keyed by the principal object's id (the identity store caches principals,
# so a client's repeated calls share one; the entry holds it, so the id
# cannot be reused while cached), which spares building userIdentity's key.
# One lookup gives the operation, region, head and index entries, each of
# which was a lookup (and a key to build) of its own.
_shapes: dict[tuple[Any, ...], _Shape] = {}
_SHAPES_MAX = 10_000


def _shape(facts: CallFacts) -> _Shape:
    p = facts.principal
    if p is None or facts.spec is None or facts.operation is None:
        return _new_shape(facts)  # unauthenticated or unrouted: not cached
    key = (
        facts.spec,
        facts.operation,
        id(p),
        facts.invoked_by,
        facts.claim_region,
        facts.default_region,
        facts.source_ip,
        facts.user_agent,
    )
    hit = _shapes.get(key)
    if hit is not None and hit.principal is p:
        return hit
    shape = _new_shape(facts)
    if len(_shapes) >= _SHAPES_MAX:
        _shapes.clear()
    _shapes[key] = shape
    return shape


def _new_shape(facts: CallFacts) -> _Shape:
    op = _operation(facts)
    region = facts.region
    p = facts.principal
    before = (
        f'{{"eventVersion":"{EVENT_VERSION}","userIdentity":{identity_json(facts)},"eventTime":"'
    )
    after = (
        f'","eventSource":{op.source_json},"eventName":{op.name_json}'
        f',"awsRegion":{_quote(region)},"sourceIPAddress":{_quote(facts.source_ip)}'
        f',"userAgent":{_quote(facts.user_agent[:_MAX_TEXT])}'
    )
    attrs = None
    if p is not None:
        # Distinct codes, values from our own records: nothing to check.
        attrs = tuple(_caller_attrs(facts, op))
    return _Shape(p, op, region, facts.source, facts.recipient, before, after, attrs)


def _caller_attrs(facts: CallFacts, op: _Operation) -> list[tuple[str, str]]:
    """The index entries of the operation and the caller."""
    p = facts.principal
    attrs = [("n", facts.event_name), ("s", op.source_attr)]
    user = username(p)
    if user:
        attrs.append(("u", user))
    akid = p.access_key_id if p else facts.access_key_id
    if akid:
        attrs.append(("k", akid))
    return attrs


def _nested(value: Any) -> str:
    return "null" if value is None else orjson.dumps(value).decode()


def build_events(
    facts: CallFacts, account_exists: Callable[[str], bool], *, outcome: bool = True
) -> list[BuiltEvent]:
    """The caller's event and, for other accounts' resources, their copies.

    ``outcome=False`` builds the request entry persisted before a mutating
    operation runs: no error, no response, no resources yet.
    """
    shape = _shape(facts)
    op = shape.op
    err = facts.error if outcome else None
    time_text, at = iso_seconds_and_us(facts.event_time)
    error_text = ""
    if err is not None:
        error_text = f',"errorCode":{_quote(err.code)}'
        if err.message:
            error_text += f',"errorMessage":{_quote(err.message[:_MAX_TEXT])}'
    params = facts.params
    request = redact(op.model.input_shape, params) if op.model is not None and params else None
    audit = facts.audit
    defaults = audit.get("request_defaults") if audit else None
    if isinstance(defaults, dict) and defaults:
        # Values the service applied for members the request left out,
        # recorded as CloudTrail records them (KMS encryption algorithms).
        request = {**defaults, **(request or {})}
    response = None
    if outcome and err is None and op.model is not None and op.response:
        response = redact(op.model.output_shape, facts.result)
    extra = audit.get("additional_event_data") if audit else None
    extra_text = (
        f',"additionalEventData":{_nested(extra)}' if isinstance(extra, dict) and extra else ""
    )
    head = (
        f"{shape.before}{time_text}{shape.after}{error_text}"
        f',"requestParameters":{"null" if request is None else _nested(request)}'
        f',"responseElements":{"null" if response is None else _nested(response)}'
        f'{extra_text},"requestID":{_quote(facts.request_id)}'
    )
    declared = _declared(audit) if outcome and audit else _NO_RESOURCES
    resources = declared.resources
    middle = declared.middle[op.read_only]
    tail = _TAIL if facts.tls is None else f'{_TAIL[:-1]},"tlsDetails":{_nested(facts.tls)}}}'
    source = shape.source
    named = named_in_request(source, params) if params else []
    if shape.attrs is not None and not resources and not named:
        attrs = shape.attrs
    else:
        attrs = _index_attrs(facts, op, declared, named)
    recipient = shape.recipient
    region = shape.region
    others: set[str] = set()
    if outcome and facts.principal is not None and (resources or named or audit):
        others = _other_accounts(facts, source, recipient, declared, named)
        if others:
            others = {a for a in others if account_exists(a)}
    shared = new_uuid() if others else None
    read_only = op.read_only
    events = [
        BuiltEvent(
            head,
            middle,
            tail,
            facts.ensure_event_id(),
            recipient,
            shared,
            region,
            at,
            read_only,
            attrs,
        )
    ]
    for account in sorted(others) if others else ():
        events.append(
            BuiltEvent(
                head, middle, tail, new_event_id(), account, shared, region, at, read_only, attrs
            )
        )
    return events


_TAIL = ',"eventCategory":"Management"}'


def _middle(resources_json: str | None) -> tuple[str, str]:
    """The record's part after requestID, for readOnly false and true."""
    listed = f',"resources":{resources_json}' if resources_json else ""
    rest = f'{listed},"eventType":"AwsApiCall","managementEvent":true'
    return f',"readOnly":false{rest}', f',"readOnly":true{rest}'


@dataclass(frozen=True, slots=True)
class _Declared:
    """What an operation said it touched, ready for the record and the index."""

    resources: list[Resource]
    middle: tuple[str, str]  # _middle() with these resources
    key: tuple[str, ...]  # the ARNs: part of the index-entry cache key
    accounts: frozenset[str]  # owners named by the ARNs


_NO_RESOURCES = _Declared([], _middle(None), (), frozenset())
# Per list of ARNs (services declare ARN strings): parsing them and their
# JSON cost microseconds per event. Bounded like the other caches.
_declared_cache: dict[tuple[str, ...], _Declared] = {}
_DECLARED_CACHE_MAX = 10_000


def _declared(audit: dict[str, Any]) -> _Declared:
    raw = audit.get("resources")
    if not raw:
        return _NO_RESOURCES
    key: tuple[str, ...] | None = tuple(raw)
    try:
        hit = _declared_cache.get(key)  # type: ignore[arg-type]
    except TypeError:  # dicts among them (ARN with type or account): not cached
        key, hit = None, None
    if hit is not None:
        return hit
    resources = declared_resources(audit)
    declared = _Declared(
        resources,
        _middle(_nested([r.record() for r in resources]) if resources else None),
        tuple(r.arn for r in resources),
        frozenset(r.account_id for r in resources if r.account_id),
    )
    if key is not None:
        if len(_declared_cache) >= _DECLARED_CACHE_MAX:
            _declared_cache.clear()
        _declared_cache[key] = declared
    return declared


# Index entries per request shape: the same caller, operation and resources
# give the same entries, and building them (resource names, dedupe) cost
# microseconds per event. Bounded like the others.
_attrs_cache: dict[tuple[Any, ...], tuple[Any, tuple[tuple[str, str], ...]]] = {}
_ATTRS_CACHE_MAX = 10_000


def _index_attrs(
    facts: CallFacts,
    op: _Operation,
    declared: _Declared,
    named: list[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    p = facts.principal
    # The caller part of the key: the principal object (by id, held in the
    # entry as in _heads), or the key an unauthenticated request presented.
    key = (op, id(p) if p is not None else facts.access_key_id, declared.key, tuple(named))
    cached = _attrs_cache.get(key)
    if cached is not None and cached[0] is p:
        return cached[1]
    attrs = _caller_attrs(facts, op)
    if p is not None and not declared.resources and not named:
        # Distinct codes, values from our own records: nothing to check.
        out = tuple(attrs)
    else:
        for res in declared.resources:
            attrs += [("t", res.type), ("m", res.arn), ("m", res.name)]
        for rtype, name in named:
            attrs += [("t", rtype), ("m", name)]
            if name.startswith("arn:"):
                attrs.append(("m", Resource(name, rtype, None).name))
        out = encode_attrs(attrs)
    if len(_attrs_cache) >= _ATTRS_CACHE_MAX:
        _attrs_cache.clear()
    _attrs_cache[key] = (p, out)
    return out


def _other_accounts(
    facts: CallFacts,
    source: str,
    recipient: str,
    declared: _Declared,
    named: list[tuple[str, str]],
) -> set[str]:
    claimed = facts.audit.get("resource_account") if facts.audit else None
    if claimed is None and source != "sts":
        owners = declared.accounts
        if not owners or (len(owners) == 1 and recipient in owners):
            return set()  # the usual case: the caller's own resources
    accounts = set(declared.accounts)
    if isinstance(claimed, str):
        accounts.add(claimed)
    if source == "sts":  # AssumeRole is recorded in the role's account too
        accounts.update(a for _, name in named if (a := arn_account(name)) is not None)
    accounts.discard(recipient)
    return {a for a in accounts if len(a) == 12 and a.isdigit()}


def mark_outcome_unknown(record: dict[str, Any]) -> dict[str, Any]:
    """A request entry whose completion never came (the process died)."""
    out = dict(record)
    out["errorCode"] = OUTCOME_UNKNOWN
    out["errorMessage"] = (
        "The server stopped before the outcome of this request was recorded; "
        "its effects may or may not have been applied."
    )
    return out
