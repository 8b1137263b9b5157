"""NextToken values: opaque to clients, checked on the way back in.

A token names the last item returned (a parameter name or a version
number) and the operation it belongs to, so a token from one listing cannot
be replayed against another. Names are not secret; the token is only
base64 so that clients treat it as opaque.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from strongroom.services.ssm import errors


def encode(kind: str, after: str) -> str:
    raw = json.dumps({"k": kind, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode(kind: str, token: Any) -> str:
    """The ``after`` of a token issued for ``kind`` ("" when there is no token)."""
    if token is None or token == "":
        return ""
    try:
        data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        if data["k"] != kind or not isinstance(data["a"], str):
            raise ValueError("token of another listing")
        return str(data["a"])
    except (ValueError, KeyError, TypeError):
        raise errors.invalid_next_token() from None


def limit(value: Any, default: int, maximum: int) -> int:
    if value is None:
        return default
    number = int(value)
    if number < 1 or number > maximum:
        raise errors.validation(
            f"1 validation error detected: Value '{number}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value less than or equal to {maximum}"
            if number > maximum
            else f"1 validation error detected: Value '{number}' at 'maxResults' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1"
        )
    return number
