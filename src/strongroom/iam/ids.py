"""Identifiers, secrets and timestamps for IAM and STS records.

AWS unique ids carry a four-letter prefix saying what they name (AWS docs,
"IAM identifiers": AIDA user, AROA role, AGPA group, ANPA managed policy,
AKIA long-term access key, ASIA temporary access key) followed by
characters from the base32 alphabet. Every random part comes from
:mod:`secrets`: ids are not secret, but predictable ids would let one
caller guess another's resources.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

USER_PREFIX = "AIDA"
ROLE_PREFIX = "AROA"
GROUP_PREFIX = "AGPA"
POLICY_PREFIX = "ANPA"
ACCESS_KEY_PREFIX = "AKIA"
SESSION_KEY_PREFIX = "ASIA"


def new_id(prefix: str) -> str:
    """``prefix`` + 16 base32 characters: 20 characters, like an AWS key id."""
    return prefix + "".join(secrets.choice(BASE32) for _ in range(16))


def new_secret_access_key() -> str:
    """40 characters of base64 (30 random bytes), the shape AWS secrets have."""
    return base64.b64encode(secrets.token_bytes(30)).decode("ascii")


def new_session_token() -> str:
    """An opaque bearer token. Only its SHA-256 is ever stored."""
    return base64.b64encode(secrets.token_bytes(96)).decode("ascii")


def token_digest(token: str) -> bytes:
    # A plain digest is enough: the token is 768 random bits, so there is
    # nothing to brute-force, and the gateway compares digests in constant time.
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_account_id() -> str:
    """Twelve decimal digits, never starting with 0 (so it can't look like the default)."""
    return str(secrets.randbelow(9 * 10**11) + 10**11)


def iso(moment: datetime) -> str:
    """Records keep UTC timestamps as ISO-8601 text with microseconds dropped."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)
