"""AWS Signature Version 4 verification, sans-IO.

The gateway calls, in this order (AWS's own order, so the same mistake
gets the same error):

1. :func:`extract_claim` — parse; no secret needed.
2. :func:`check_freshness` — clock skew / presign expiry (optional here:
   :func:`verify` repeats it, it is cheap).
3. :func:`check_scope` — region and service of the credential scope.
4. look up the secret of ``claim.access_key_id`` (UNKNOWN_KEY is the
   gateway's to raise), then :func:`verify`.

``path`` is the raw request path exactly as received (still
percent-encoded: ASGI ``raw_path``, not ``path``), ``query`` the raw query
string, ``headers`` lower-cased names to values with repeats joined by
",". Header bytes should be decoded as latin-1, the way HTTP clients put
them on the wire.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from strongroom.auth.sigv4_canonical import (
    ALGORITHM,
    TERMINATOR,
    UNSIGNED_PAYLOAD,
    canonical_headers,
    canonical_query,
    canonical_uri,
    sha256_hex,
    sign,
    utf8,
)
from strongroom.auth.sigv4_claim import SigV4Claim, scope_date_mismatch
from strongroom.errors import AuthFailure, AuthFailureKind

MAX_CLOCK_SKEW = timedelta(minutes=15)

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
HOST_NOT_SIGNED = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
PAYLOAD_HASH_MISMATCH = (
    "The provided 'x-amz-content-sha256' header does not match what was computed."
)
UNSIGNED_PAYLOAD_REFUSED = "UNSIGNED-PAYLOAD is not accepted for this request; sign the payload."


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def check_freshness(claim: SigV4Claim, now: datetime) -> None:
    """Reject a signature made more than 15 minutes away from ``now`` (aware).

    A presigned URL with ``X-Amz-Expires`` is instead valid until signing
    time + expiry, and not before signing time - 15 minutes.
    """
    signed_at = claim.amz_date
    if signed_at > now + MAX_CLOCK_SKEW:
        raise AuthFailure(
            AuthFailureKind.REQUEST_EXPIRED,
            f"Signature not yet current: {claim.stamp} is still later than "
            f"{_stamp(now + MAX_CLOCK_SKEW)} ({_stamp(now)} + 15 min.)",
        )
    if claim.presigned and claim.expires_seconds is not None:
        if now > signed_at + timedelta(seconds=claim.expires_seconds):
            raise AuthFailure(AuthFailureKind.REQUEST_EXPIRED, "Request has expired")
        return
    if signed_at < now - MAX_CLOCK_SKEW:
        raise AuthFailure(
            AuthFailureKind.REQUEST_EXPIRED,
            f"Signature expired: {claim.stamp} is now earlier than "
            f"{_stamp(now - MAX_CLOCK_SKEW)} ({_stamp(now)} - 15 min.)",
        )


def check_scope(claim: SigV4Claim, *, region: str | None, service: str | None) -> None:
    """Reject a credential scoped to another region or service (None: don't check)."""
    problems = []
    if region is not None and claim.region != region:
        problems.append("Credential should be scoped to a valid region. ")
    if service is not None and claim.service != service:
        problems.append(f"Credential should be scoped to correct service: '{service}'. ")
    if problems:
        raise AuthFailure(AuthFailureKind.BAD_SIGNATURE, "".join(problems))


def payload_hash(
    headers: Mapping[str, str], body: bytes, *, allow_unsigned_payload: bool = True
) -> str:
    """The last line of the canonical request.

    A client may declare the hash in ``x-amz-content-sha256``: the literal
    UNSIGNED-PAYLOAD is used as is (the body is then not covered by the
    signature); anything else must be the body's real hash.
    """
    declared = headers.get("x-amz-content-sha256")
    if declared is None:
        return sha256_hex(body)
    if declared == UNSIGNED_PAYLOAD:
        if not allow_unsigned_payload:
            raise AuthFailure(AuthFailureKind.BAD_SIGNATURE, UNSIGNED_PAYLOAD_REFUSED)
        return declared
    if declared.lower() != sha256_hex(body):
        raise AuthFailure(AuthFailureKind.BAD_SIGNATURE, PAYLOAD_HASH_MISMATCH)
    return declared  # signers put the header's own spelling in the canonical request


def canonical_request(
    claim: SigV4Claim,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    allow_unsigned_payload: bool = True,
) -> str:
    """The canonical request AWS would compute for this request and claim."""
    signed = claim.signed_headers
    return (
        f"{method}\n"
        f"{canonical_uri(path)}\n"
        f"{canonical_query(query, drop_signature=claim.presigned)}\n"
        f"{canonical_headers(signed, headers)}\n"
        f"{';'.join(signed)}\n"
        f"{payload_hash(headers, body, allow_unsigned_payload=allow_unsigned_payload)}"
    )


def string_to_sign(claim: SigV4Claim, canonical: str) -> str:
    return (
        f"{ALGORITHM}\n{claim.stamp}\n"
        f"{claim.date}/{claim.region}/{claim.service}/{TERMINATOR}\n"
        f"{sha256_hex(utf8(canonical))}"
    )


def verify(
    claim: SigV4Claim,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_access_key: str,
    now: datetime,
    *,
    allow_unsigned_payload: bool = True,
) -> None:
    """Return quietly if the request carries a valid signature by this secret.

    Raises :class:`AuthFailure` with REQUEST_EXPIRED or BAD_SIGNATURE.
    ``now`` must be timezone-aware.
    """
    check_freshness(claim, now)
    signed = claim.signed_headers
    if "host" not in signed and ":authority" not in signed:
        raise AuthFailure(AuthFailureKind.BAD_SIGNATURE, HOST_NOT_SIGNED)
    stamp = claim.stamp
    if claim.date != stamp[:8]:  # extract_claim checks too; a claim may be built by hand
        raise AuthFailure(AuthFailureKind.BAD_SIGNATURE, scope_date_mismatch(claim.date, stamp))
    canonical = canonical_request(
        claim, method, path, query, headers, body, allow_unsigned_payload=allow_unsigned_payload
    )
    expected = sign(
        secret_access_key, claim.date, claim.region, claim.service, string_to_sign(claim, canonical)
    )
    provided = claim.signature
    # compare_digest refuses non-ASCII str; such a signature is simply wrong.
    if not (provided.isascii() and hmac.compare_digest(expected, provided)):
        raise AuthFailure(AuthFailureKind.BAD_SIGNATURE, SIGNATURE_MISMATCH)
