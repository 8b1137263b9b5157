"""What a SigV4 request claims: parsed from headers or a presigned query.

Nothing here needs a secret. The gateway extracts the claim first, looks
the access key up, then calls :func:`strongroom.auth.sigv4.verify`. The
checks and their messages follow what AWS answers for the same mistakes
(recorded in the public dynalite and Scratchstack projects and AWS's
"Troubleshoot signed requests" page), so clients and their retry logic see
familiar errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import unquote

from strongroom.auth.sigv4_canonical import ALGORITHM, TERMINATOR
from strongroom.errors import AuthFailure, AuthFailureKind

MAX_PRESIGN_EXPIRES = 604800  # one week, AWS's ceiling for X-Amz-Expires

# AWS checks presigned URLs for these, in this order, and names all missing ones at once.
_QUERY_REQUIRED = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "X-Amz-Date",
)


# Not frozen, though nothing changes it once parsed: every request builds
# one, and a frozen dataclass's __init__ (a setattr through object per
# field) cost 3.5 µs against 0.6 µs.
@dataclass(slots=True)
class SigV4Claim:
    """What the request claims about its signer, before any verification."""

    access_key_id: str
    date: str  # yyyymmdd from the credential scope
    region: str
    service: str  # credential scope service: "iam", "kms", ...
    signed_headers: tuple[str, ...]  # lower-cased, in the client's order
    signature: str = field(repr=False)  # hex
    amz_date: datetime  # X-Amz-Date (or Date header), aware UTC
    security_token: str | None = field(repr=False)  # X-Amz-Security-Token, header or query
    presigned: bool
    expires_seconds: int | None  # X-Amz-Expires of a presigned URL
    # The request time exactly as it enters the string to sign
    # (yyyymmddThhmmssZ); derived from amz_date when left empty.
    timestamp: str = ""

    @property
    def stamp(self) -> str:
        return self.timestamp or self.amz_date.strftime("%Y%m%dT%H%M%SZ")


def _echo(value: str) -> str:
    """A client-supplied value made safe to quote back in an error message.

    Lone surrogates (raw non-UTF-8 bytes, see ``sigv4_canonical.utf8``)
    would break the response encoders, so they become U+FFFD.
    """
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _incomplete(message: str) -> AuthFailure:
    return AuthFailure(AuthFailureKind.INCOMPLETE, message)


def _bad_date(value: str) -> AuthFailure:
    return _incomplete(
        f"Date must be in ISO-8601 'basic format'. Got '{_echo(value)}'. "
        "See http://en.wikipedia.org/wiki/ISO_8601"
    )


@lru_cache(maxsize=128)
def _parse_amz_date(value: str) -> datetime:
    # Cached: a busy server sees the same second on many requests, and this
    # beats strptime by ~5 µs even uncached.
    if len(value) != 16 or value[8] != "T" or value[15] != "Z":
        raise _bad_date(value)
    digits = value[:8] + value[9:15]
    if not (digits.isascii() and digits.isdigit()):
        raise _bad_date(value)
    try:
        return datetime(
            int(value[0:4]), int(value[4:6]), int(value[6:8]),
            int(value[9:11]), int(value[11:13]), int(value[13:15]),
            tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        raise _bad_date(value) from None


def _request_time(amz_date: str | None, date_header: str | None) -> tuple[datetime, str]:
    """The signing time and its basic-format stamp; X-Amz-Date wins over Date."""
    if amz_date is not None:
        return _parse_amz_date(amz_date), amz_date
    assert date_header is not None
    try:
        parsed = parsedate_to_datetime(date_header)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)  # RFC 7231 dates are GMT
        parsed = parsed.astimezone(UTC)
    except (TypeError, ValueError, OverflowError, IndexError):
        # email.utils raises any of these on hostile input (e.g. a huge year).
        raise _bad_date(date_header) from None
    return parsed, parsed.strftime("%Y%m%dT%H%M%SZ")


def _unsupported_algorithm(algorithm: str) -> AuthFailure:
    return _incomplete(
        f"Unsupported AWS 'algorithm': '{_echo(algorithm)}' (only AWS4-HMAC-SHA256 for now). "
    )


def _scope(credential: str, stamp: str) -> tuple[str, str, str, str]:
    """Split ``keyid/date/region/service/aws4_request``; check terminator and date."""
    parts = credential.rstrip("/").split("/")  # AWS ignores trailing slashes
    if len(parts) != 5:
        raise _incomplete(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{_echo(credential)}'"
        )
    access_key_id, date, region, service, terminator = parts
    problems = []
    if terminator != TERMINATOR:
        problems.append(
            f"Credential should be scoped with a valid terminator: 'aws4_request', "
            f"not '{_echo(terminator)}'. "
        )
    if date != stamp[:8]:
        problems.append(scope_date_mismatch(date, stamp))
    if problems:
        # AWS answers these as signature failures, not as malformed requests.
        raise AuthFailure(AuthFailureKind.BAD_SIGNATURE, "".join(problems))
    return access_key_id, date, region, service


def scope_date_mismatch(date: str, stamp: str) -> str:
    return (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
        f"from HTTP: '{_echo(date)}' != '{stamp[:8]}', from '{stamp}'."
    )


def _auth_query_params(query: str) -> dict[str, str]:
    """Percent-decoded ``X-Amz-*`` query parameters (others are not needed here)."""
    params: dict[str, str] = {}
    for piece in query.split("&"):
        if piece.startswith("X-Amz-"):
            name, _, value = piece.partition("=")
            # Plain unquote, not unquote_plus: a session token is base64 and a
            # literal '+' in it means '+'.
            params.setdefault(name, unquote(value))
    return params


def extract_claim(method: str, path: str, query: str, headers: Mapping[str, str]) -> SigV4Claim:
    """Parse the SigV4 claim of a request, header or presigned-query form.

    ``headers`` maps lower-cased names to values (repeats joined with ",");
    ``query`` is the raw query string. ``method`` and ``path`` take no part
    in parsing; they are accepted so the call reads like :func:`verify`.
    Raises :class:`AuthFailure` (MISSING, INCOMPLETE, or BAD_SIGNATURE for
    a wrong scope terminator/date and for two auth mechanisms at once).
    """
    del method, path
    authorization = headers.get("authorization")
    params = _auth_query_params(query) if "X-Amz-" in query else None
    if params is not None and "X-Amz-Algorithm" in params:
        if authorization is not None:
            raise AuthFailure(
                AuthFailureKind.BAD_SIGNATURE,
                "Found both 'X-Amz-Algorithm' as a query-string param and "
                "'Authorization' as HTTP header.",
            )
        return _from_query(params, headers)
    if authorization is None or not authorization.lstrip().startswith("AWS4-"):
        raise AuthFailure(AuthFailureKind.MISSING, "Request is missing Authentication Token")
    return _from_header(authorization.strip(), headers)


def _from_header(authorization: str, headers: Mapping[str, str]) -> SigV4Claim:
    algorithm, _, rest = authorization.partition(" ")
    fields: dict[str, str] = {}
    # Components are separated by "," and/or spaces; AWS accepts either.
    for item in rest.replace(",", " ").split():
        name, equals, value = item.partition("=")
        if not equals:
            raise _incomplete(
                f"'{_echo(item)}' not a valid key=value pair (missing equal-sign) in "
                f"Authorization header: '{_echo(authorization)}'."
            )
        fields[name] = value
    amz_date = headers.get("x-amz-date")
    date_header = headers.get("date") if amz_date is None else None
    if not (
        fields.get("Credential")
        and fields.get("Signature")
        and fields.get("SignedHeaders")
        and (amz_date is not None or date_header is not None)
    ):
        raise _header_incomplete(authorization, fields, amz_date, date_header)
    if algorithm != ALGORITHM:
        raise _unsupported_algorithm(algorithm)
    when, stamp = _request_time(amz_date, date_header)
    access_key_id, date, region, service = _scope(fields["Credential"], stamp)
    # Positional arguments: a frozen dataclass built by keyword costs ~1 µs more.
    return SigV4Claim(
        access_key_id,
        date,
        region,
        service,
        tuple(fields["SignedHeaders"].lower().split(";")),
        fields["Signature"],
        when,
        headers.get("x-amz-security-token"),
        False,  # presigned
        None,  # expires_seconds
        stamp,
    )


def _header_incomplete(
    authorization: str, fields: Mapping[str, str], amz_date: str | None, date_header: str | None
) -> AuthFailure:
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not fields.get(name)
    ]
    if amz_date is None and date_header is None:
        missing.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    return _incomplete(f"{' '.join(missing)} Authorization={_echo(authorization)}")


def _expires(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        seconds = int(value)
    except ValueError:
        raise _incomplete("X-Amz-Expires should be a number") from None
    if seconds < 0:
        raise _incomplete("X-Amz-Expires must be non-negative")
    if seconds > MAX_PRESIGN_EXPIRES:
        raise _incomplete(
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}"
        )
    return seconds


def _from_query(params: Mapping[str, str], headers: Mapping[str, str]) -> SigV4Claim:
    missing = [
        f"AWS query-string parameters must include '{name}'."
        for name in _QUERY_REQUIRED
        if not params.get(name)
    ]
    if missing:
        raise _incomplete(f"{' '.join(missing)} Re-examine the query-string parameters.")
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise _unsupported_algorithm(params["X-Amz-Algorithm"])
    when, stamp = _request_time(params["X-Amz-Date"], None)
    access_key_id, date, region, service = _scope(params["X-Amz-Credential"], stamp)
    return SigV4Claim(
        access_key_id,
        date,
        region,
        service,
        tuple(params["X-Amz-SignedHeaders"].lower().split(";")),
        params["X-Amz-Signature"],
        when,
        params.get("X-Amz-Security-Token") or headers.get("x-amz-security-token"),
        True,  # presigned
        _expires(params.get("X-Amz-Expires")),
        stamp,
    )
