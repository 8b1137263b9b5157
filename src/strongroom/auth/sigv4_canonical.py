"""The canonical forms of SigV4 (pure string work, no request state).

These are the pieces AWS's server side recomputes from what arrived on the
wire, for every service except S3 (which skips path normalization and
double encoding; Strongroom serves no S3 API):

* the canonical URI: the raw path as received, dot segments and empty
  segments removed, then URI-encoded once more. Clients such as botocore
  percent-encode the path when they build the URL and then encode that
  string again for signing, so a ``%`` on the wire becomes ``%25`` here.
* the canonical query: each ``name=value`` pair decoded and re-encoded
  with RFC 3986 rules, then sorted by encoded name, then value.
* the canonical headers: the signed headers, trimmed, runs of whitespace
  collapsed, one ``name:value`` line each.
* the signing key: four chained HMACs over (date, region, service,
  "aws4_request"); it only changes once a day per credential, so it is
  cached.

Hashing uses ``hashlib``/``hmac`` (OpenSSL underneath) rather than
``cryptography``: SigV4 is a protocol digest computed on every request and
``cryptography``'s per-object overhead measured ~3x slower here; no key
material of Strongroom's own is involved.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import quote, unquote_to_bytes

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# RFC 3986 unreserved characters: the only ones SigV4 leaves unencoded.
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_UNRESERVED_OR_SLASH = _UNRESERVED + "/"


def canonical_uri(path: str) -> str:
    """Normalize then encode the raw (still percent-encoded) request path."""
    if path == "/":
        return path  # every JSON and Query protocol request: skip all work
    segments: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    normalized = "/" + "/".join(segments)
    if segments and path.endswith("/"):
        normalized += "/"
    # str.strip with a character set is a C-speed "only these characters?" test.
    if not normalized.strip(_UNRESERVED_OR_SLASH):
        return normalized
    return quote(utf8(normalized), safe="/")


def _encode_component(text: str) -> str:
    if not text.strip(_UNRESERVED):
        return text
    # Decode what the client encoded, then encode the AWS way. '+' is a space,
    # as AWS's own 2011 test suite shows (post-vanilla-query-nonunreserved);
    # compliant signers never send it raw. Bytes, not str: an invalid UTF-8
    # escape must round-trip unchanged.
    return quote(unquote_to_bytes(utf8(text.replace("+", " "))), safe="")


def canonical_query(query: str, *, drop_signature: bool = False) -> str:
    """Canonical query string from the raw one (``X-Amz-Signature`` dropped for presigned URLs)."""
    if not query:
        return ""
    pairs: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if drop_signature and name == "X-Amz-Signature":
            continue
        pairs.append((_encode_component(name), _encode_component(value)))
    pairs.sort()
    return "&".join([f"{name}={value}" for name, value in pairs])


def canonical_headers(signed_headers: Iterable[str], headers: Mapping[str, str]) -> str:
    """One ``name:value\\n`` line per signed header, in the order the client signed them.

    A signed header that is absent canonicalizes as empty, which can only
    match a signature made over an empty value.
    """
    lines = []
    for name in signed_headers:
        value = headers.get(name)
        if value is None and name == ":authority":
            value = headers.get("host")  # HTTP/2 clients may sign the pseudo-header
        lines.append(f"{name}:{' '.join(value.split()) if value else ''}\n")
    return "".join(lines)


def utf8(text: str) -> bytes:
    """UTF-8, with lone surrogates turned back into the raw bytes they stand for.

    The gateway decodes raw path and query bytes with ``surrogateescape``
    so that a client that sent non-UTF-8 bytes gets them back, byte for
    byte, in the canonical request (and never an exception).
    """
    return text.encode("utf-8", "surrogateescape")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=512)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key, cached: it changes once a day per credential and scope.

    The cache keeps secrets in process memory only, keyed by the secret
    itself, so a rotated secret simply stops being looked up and ages out.
    """
    key = hmac.digest(utf8(f"AWS4{secret}"), utf8(date), "sha256")
    key = hmac.digest(key, utf8(region), "sha256")
    key = hmac.digest(key, utf8(service), "sha256")
    return hmac.digest(key, TERMINATOR.encode(), "sha256")


@lru_cache(maxsize=512)
def _keyed_hmac(secret: str, date: str, region: str, service: str) -> hmac.HMAC:
    # An HMAC object already keyed: copying it skips re-deriving the inner and
    # outer pads, which halves the cost of the per-request HMAC.
    return hmac.new(signing_key(secret, date, region, service), digestmod=hashlib.sha256)


def sign(secret: str, date: str, region: str, service: str, string_to_sign: str) -> str:
    """Hex HMAC-SHA256 of the string to sign under the derived signing key."""
    mac = _keyed_hmac(secret, date, region, service).copy()
    mac.update(utf8(string_to_sign))
    return mac.hexdigest()


def clear_key_cache() -> None:
    """Forget every cached signing key (e.g. after an access key is deleted)."""
    signing_key.cache_clear()
    _keyed_hmac.cache_clear()
