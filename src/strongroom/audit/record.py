"""What the gateway learned about one request, and the userIdentity it implies.

The gateway fills a :class:`CallFacts` step by step (a request that fails to
route or authenticate leaves later fields empty);
:mod:`strongroom.audit.events` turns it into CloudTrail records.
Format: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from strongroom.audit.resources import arn_account
from strongroom.errors import ServiceError
from strongroom.iam.principal import Principal, PrincipalType
from strongroom.protocol.codec import iso_seconds
from strongroom.protocol.models import ServiceSpec
from strongroom.randpool import random_hex

EVENT_VERSION = "1.08"
OUTCOME_UNKNOWN = "Strongroom:OutcomeUnknown"
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_SOURCE = re.compile(r"[a-z0-9-]{1,64}")
_MAX_TEXT = 1024  # user agent, error message: bounded, whatever the client sent
# Region and service names clients sent that passed _SOURCE: every record
# asks for its region a few times, and the regular expression cost ~2,500
# instructions a time. Bounded: the names are the client's choice.
_TOKENS: set[str] = set()


def _is_token(text: str) -> bool:
    if text in _TOKENS:
        return True
    if _SOURCE.fullmatch(text) is None:
        return False
    if len(_TOKENS) >= 1000:
        _TOKENS.clear()
    _TOKENS.add(text)
    return True


@dataclass(slots=True)
class CallFacts:
    """Everything about one request that may go into its record."""

    request_id: str
    event_time: datetime
    default_account: str
    default_region: str
    source_ip: str = ""
    user_agent: str = ""
    host: str = ""
    tls: dict[str, str] | None = None
    claim_region: str | None = None
    claim_service: str | None = None
    access_key_id: str | None = None  # as presented, even when not verified
    key_account: str | None = None  # owner of the presented key, when known
    principal: Principal | None = None
    spec: ServiceSpec | None = None
    operation: str | None = None  # set once routing succeeded
    attempted_operation: str | None = None  # best effort when it did not
    params: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    error: ServiceError | None = None
    audit: dict[str, Any] = field(default_factory=dict)
    # Made when the first record of the request is built (a server with the
    # audit trail off never needs one): see :meth:`ensure_event_id`.
    event_id: str = ""
    # Set for a call one service made in-process for another on the
    # caller's behalf (KMS for Secrets Manager): "secretsmanager.amazonaws.com".
    invoked_by: str | None = None

    def ensure_event_id(self) -> str:
        """The request's event id, made on first use; the request entry and
        the completed event share it."""
        event_id = self.event_id
        if not event_id:
            event_id = self.event_id = new_event_id()
        return event_id

    @classmethod
    def nested(
        cls,
        caller: CallFacts,
        invoked_by: str,
        spec: ServiceSpec,
        operation: str,
        params: dict[str, Any] | None,
        result: dict[str, Any] | None,
        error: ServiceError | None,
        audit: dict[str, Any],
    ) -> CallFacts:
        """A call one service made in-process for ``caller``'s request, as
        the audit trail records it: its own request id, the invoking service
        as source address and user agent.

        Positional, in field order: a dataclass ``__init__`` given sixteen
        keyword arguments cost 2.7 times as much (1.5 against 0.56 µs), and
        every Secrets Manager or SecureString read makes one. A test checks
        the result against the same facts given by keyword."""
        return cls(
            new_uuid(),  # request_id
            caller.event_time,
            caller.default_account,
            caller.default_region,
            invoked_by,  # source_ip
            invoked_by,  # user_agent
            "",  # host
            None,  # tls
            caller.claim_region,
            None,  # claim_service
            None,  # access_key_id
            None,  # key_account
            caller.principal,
            spec,
            operation,
            None,  # attempted_operation
            params,
            result,
            error,
            audit,
            "",  # event_id
            invoked_by or None,
        )

    @property
    def source(self) -> str:
        """Event source prefix: the service's signing name (``kms``)."""
        if self.spec is not None:
            return self.spec.signing_name
        if self.claim_service and _is_token(self.claim_service):
            return self.claim_service
        return "unknown"

    @property
    def event_name(self) -> str:
        if self.operation is not None:
            return self.operation
        attempted = self.attempted_operation
        return attempted if attempted and _NAME.fullmatch(attempted) else "Unknown"

    @property
    def region(self) -> str:
        region = self.claim_region
        return region if region and _is_token(region) else self.default_region

    @property
    def recipient(self) -> str:
        if self.principal is not None:
            return self.principal.account_id
        return self.key_account or self.default_account


# Compact JSON, one encoder object: json.dumps with non-default options
# builds a new encoder on every call.
ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


# The UUID variant digit (RFC 9562: bits 10xx) for any random hex digit.
_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


def new_uuid() -> str:
    """A random (version 4) UUID string, without uuid.UUID's overhead:
    122 random bits, the version and variant digits set."""
    h = random_hex(31)
    return f"{h[:8]}-{h[8:12]}-4{h[12:15]}-{_VARIANT[h[15]]}{h[16:19]}-{h[19:]}"


def new_event_id() -> str:
    """A time-ordered UUID (version 7: milliseconds, then random bits).

    Event ids are indexed; ids that grow with time are appended at the end
    of the index instead of landing on a random page each."""
    global _last_ms
    ms = time.time_ns() // 1_000_000
    last = _last_ms
    if last[0] != ms:  # ids made in the same millisecond share the prefix
        t = f"{ms & 0xFFFF_FFFF_FFFF:012x}"
        last = _last_ms = (ms, f"{t[:8]}-{t[8:]}-7")
    h = random_hex(19)
    return f"{last[1]}{h[:3]}-{_VARIANT[h[3]]}{h[4:7]}-{h[7:]}"


_last_ms: tuple[int, str] = (-1, "")


# userIdentity JSON per principal object and invoking service (the identity
# store caches principals, so a client's repeated calls share one):
# (id, invoked_by) -> (principal, json). The principal is held so that its
# id cannot be reused while cached.
_identity_cache: dict[tuple[int, str | None], tuple[Principal, str]] = {}
_IDENTITY_CACHE_MAX = 10_000


def identity_json(facts: CallFacts) -> str:
    p = facts.principal
    if p is None:
        return ENCODER.encode(user_identity(facts))
    key = (id(p), facts.invoked_by)
    hit = _identity_cache.get(key)
    if hit is not None and hit[0] is p:
        return hit[1]
    text = ENCODER.encode(user_identity(facts))
    if len(_identity_cache) >= _IDENTITY_CACHE_MAX:
        _identity_cache.clear()
    _identity_cache[key] = (p, text)
    return text


def username(principal: Principal | None) -> str | None:
    """LookupEvents' Username: user name, session name, or "root"."""
    if principal is None:
        return None
    if principal.type is PrincipalType.USER:
        return principal.user_name
    if principal.type is PrincipalType.ROOT:
        return "root"
    if principal.session is not None and principal.session.session_name:
        return principal.session.session_name
    return principal.arn.rsplit("/", 1)[-1]


def user_identity(facts: CallFacts) -> dict[str, Any]:
    p = facts.principal
    if p is None:
        # Not authenticated: only what the request claimed.
        unknown: dict[str, Any] = {"type": "Unknown"}
        if facts.key_account:
            unknown["accountId"] = facts.key_account
        if facts.access_key_id and _NAME.fullmatch(facts.access_key_id):
            unknown["accessKeyId"] = facts.access_key_id
        return unknown
    ident: dict[str, Any] = {
        "type": p.type.value,
        "principalId": p.principal_id,
        "arn": p.arn,
        "accountId": p.account_id,
    }
    if p.access_key_id:
        ident["accessKeyId"] = p.access_key_id
    if p.type is PrincipalType.USER and p.user_name:
        ident["userName"] = p.user_name
    s = p.session
    if s is not None:
        issuer: dict[str, Any] = {}
        if p.type is not PrincipalType.USER and p.type is not PrincipalType.ROOT:
            issuer = {
                "type": s.issuer_type,
                "principalId": s.issuer_id,
                "arn": s.issuer_arn,
                "accountId": arn_account(s.issuer_arn) or p.account_id,
                "userName": s.issuer_arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1],
            }
        context: dict[str, Any] = {
            "sessionIssuer": issuer,
            "webIdFederationData": {},
            "attributes": {
                "creationDate": iso_seconds(s.created),
                "mfaAuthenticated": "true" if s.mfa_authenticated else "false",
            },
        }
        if s.source_identity:
            context["sourceIdentity"] = s.source_identity
        ident["sessionContext"] = context
    if facts.invoked_by is not None:
        ident["invokedBy"] = facts.invoked_by
    return ident
