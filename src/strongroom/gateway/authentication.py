"""Who sent this request: SigV4 verification against stored credentials.

In dev mode the signature is parsed but not verified, and the access key id
picks the account (12 digits) as LocalStack users expect.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from strongroom.auth import SigV4Claim, check_freshness, check_scope, verify
from strongroom.errors import AuthFailure, AuthFailureKind
from strongroom.gateway.request import HttpRequest
from strongroom.iam.principal import Principal, root_principal
from strongroom.platform import Platform

_INVALID_TOKEN = "The security token included in the request is invalid."


def authenticate(
    platform: Platform, claim: SigV4Claim, req: HttpRequest, now: datetime, signing_name: str
) -> Principal:
    """The principal behind a verified signature, in the order AWS checks:
    freshness, scope, key, token, then the signature itself."""
    principal, long_term = verify_request(platform, claim, req, now, signing_name)
    if long_term:
        platform.identities.note_key_used(claim.access_key_id, signing_name, claim.region)
    return principal


def verify_request(
    platform: Platform, claim: SigV4Claim, req: HttpRequest, now: datetime, signing_name: str
) -> tuple[Principal, bool]:
    """:func:`authenticate` without its side effect: the principal, and whether
    the key is a long-term one whose last use the caller should note (the
    gateway notes it only once the request's audit record is persisted)."""
    if platform.settings.dev:
        return _dev_principal(platform, claim.access_key_id), False
    check_freshness(claim, now)
    check_scope(claim, region=None, service=signing_name)
    cred = platform.identities.lookup_access_key(claim.access_key_id)
    if cred is None or not cred.active:
        raise AuthFailure(AuthFailureKind.UNKNOWN_KEY, _INVALID_TOKEN)
    if cred.session_token_sha256 is not None:
        presented = (claim.security_token or "").encode()
        if not hmac.compare_digest(hashlib.sha256(presented).digest(), cred.session_token_sha256):
            raise AuthFailure(AuthFailureKind.INVALID_TOKEN, _INVALID_TOKEN)
    if cred.expires is not None and now >= cred.expires:
        raise AuthFailure(
            AuthFailureKind.TOKEN_EXPIRED, "The security token included in the request is expired"
        )
    verify(
        claim, req.method, req.path, req.query, req.headers, req.body, cred.secret_access_key, now
    )
    # AWS tracks last use of long-term keys only.
    return cred.principal, cred.session_token_sha256 is None


def _dev_principal(platform: Platform, access_key_id: str) -> Principal:
    account = access_key_id if len(access_key_id) == 12 and access_key_id.isdigit() else None
    return root_principal(account or platform.settings.default_account_id, access_key_id)
