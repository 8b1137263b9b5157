"""Which calls are read-only, which need a "request" entry first, and which
have their response recorded.

``readOnly`` follows CloudTrail: operations named Get/List/Describe/Lookup...
are read-only, and so are the KMS cryptographic operations and every STS
call, which CloudTrail also marks ``readOnly: true`` although some of them
mint credentials.

Separately, the fail-closed design (docs/design/audit.md) persists a request
entry before any call that may change state. That is every non-read-only
call plus the few read-only ones that write (STS stores the session it
issues); a Service may add its own with an ``audit_writes`` class attribute
(a frozenset of operation names), e.g. a GetSecretValue that updates a
last-accessed date.
"""

from __future__ import annotations

from functools import lru_cache

_READ_PREFIXES = (
    "Get",
    "List",
    "Describe",
    "Lookup",
    "Search",
    "Query",
    "BatchGet",
    "Head",
    "Simulate",
    "Validate",
    "Check",
    "Preview",
    "Estimate",
    "Decode",
)

_READ_ONLY_BY_SOURCE: dict[str, frozenset[str]] = {
    "kms": frozenset(
        {
            "Encrypt",
            "Decrypt",
            "ReEncrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
            "GenerateRandom",
            "GenerateMac",
            "VerifyMac",
            "Sign",
            "Verify",
            "DeriveSharedSecret",
        }
    ),
    "sts": frozenset(
        {
            "AssumeRole",
            "AssumeRoleWithSAML",
            "AssumeRoleWithWebIdentity",
            "AssumeRoot",
            "GetSessionToken",
            "GetFederationToken",
            "GetCallerIdentity",
            "GetAccessKeyInfo",
            "DecodeAuthorizationMessage",
            "GetWebIdentityToken",
            "GetDelegatedAccessToken",
        }
    ),
}

# Read-only in CloudTrail's sense, but they store something (a session).
_WRITES_DESPITE_READ_ONLY: dict[str, frozenset[str]] = {
    "sts": frozenset(
        {
            "AssumeRole",
            "AssumeRoleWithSAML",
            "AssumeRoleWithWebIdentity",
            "AssumeRoot",
            "GetSessionToken",
            "GetFederationToken",
        }
    ),
}

# Read-only calls whose responseElements CloudTrail records anyway: the
# credentials they issue (access key id, expiry; never the secret parts).
_RESPONSE_RECORDED: dict[str, frozenset[str]] = _WRITES_DESPITE_READ_ONLY


@lru_cache(maxsize=4096)
def is_read_only(service: str, operation: str) -> bool:
    """``service`` is the event source prefix (``kms``), not the model name."""
    explicit = _READ_ONLY_BY_SOURCE.get(service)
    if explicit is not None and operation in explicit:
        return True
    return operation.startswith(_READ_PREFIXES)


def needs_intent(service: str, operation: str, extra_writes: frozenset[str]) -> bool:
    """Must a request entry be durable before this operation runs?"""
    if not is_read_only(service, operation):
        return True
    if operation in extra_writes:
        return True
    return operation in _WRITES_DESPITE_READ_ONLY.get(service, frozenset())


def records_response(service: str, operation: str) -> bool:
    if not is_read_only(service, operation):
        return True
    return operation in _RESPONSE_RECORDED.get(service, frozenset())
