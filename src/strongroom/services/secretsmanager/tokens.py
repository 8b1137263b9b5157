"""Opaque NextToken values: an offset bound to the query that produced it.

A token handed back with a different query (another secret, other filters)
is refused with InvalidNextTokenException rather than silently paging
through the wrong list.
"""

from __future__ import annotations

import base64
import hashlib
import json

from strongroom.services.secretsmanager import errors


def _scope_hash(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]


def next_token(offset: int, scope: str) -> str:
    raw = json.dumps({"o": offset, "s": _scope_hash(scope)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def page_start(token: object, scope: str) -> int:
    if token is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        offset = data["o"]
        if data["s"] != _scope_hash(scope) or not isinstance(offset, int) or offset < 0:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise errors.invalid_next_token() from None
    return offset
