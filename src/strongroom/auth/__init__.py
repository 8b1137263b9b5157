"""Request authentication: AWS Signature Version 4, pure and sans-IO."""

from strongroom.auth.sigv4 import (
    MAX_CLOCK_SKEW,
    canonical_request,
    check_freshness,
    check_scope,
    string_to_sign,
    verify,
)
from strongroom.auth.sigv4_canonical import clear_key_cache, signing_key
from strongroom.auth.sigv4_claim import SigV4Claim, extract_claim

__all__ = [
    "MAX_CLOCK_SKEW",
    "SigV4Claim",
    "canonical_request",
    "check_freshness",
    "check_scope",
    "clear_key_cache",
    "extract_claim",
    "signing_key",
    "string_to_sign",
    "verify",
]
