"""Pure helpers of STS: parameter rules, session tags, packed policy size,
and the credential record of a new session.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from strongroom.iam.credentials import principal_to_dict
from strongroom.iam.errors import packed_policy_too_large, validation
from strongroom.iam.ids import (
    SESSION_KEY_PREFIX,
    iso,
    new_id,
    new_secret_access_key,
    new_session_token,
    token_digest,
)
from strongroom.iam.principal import Principal
from strongroom.iam.records import KeyRecord

SESSION_NAME_RE = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
SOURCE_IDENTITY_RE = re.compile(r"[\w+=,.@-]{2,256}", re.ASCII)
EXTERNAL_ID_RE = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
TAG_KEY_RE = re.compile(r"[\w\s.:/=+\-@]{1,128}")
TAG_VALUE_RE = re.compile(r"[\w\s.:/=+\-@]{0,256}")

MAX_SESSION_TAGS = 50
MAX_POLICY_ARNS = 10
# Budget for the packed session policies and tags. AWS packs them into a
# binary form whose exact size rules are unpublished; we count the minified
# JSON policy, the policy ARNs and the tag text against the documented
# 2,048-character plaintext limit, and report usage as a percentage as AWS does.
PACKED_LIMIT = 2048
ROLE_CHAINING_LIMIT = 3600


def check_pattern(value: str, pattern: re.Pattern[str], member: str) -> str:
    if not pattern.fullmatch(value):
        raise validation(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {pattern.pattern}"
        )
    return value


def parse_role_arn(arn: str) -> tuple[str, str]:
    """(account, role name) of ``arn:aws:iam::ACCOUNT:role/[path/]NAME``."""
    parts = arn.split(":", 5)
    if (
        len(parts) != 6
        or parts[0] != "arn"
        or parts[2] != "iam"
        or not parts[4].isdigit()
        or not parts[5].startswith("role/")
        or parts[5].endswith("/")
    ):
        raise validation(f"{arn} is invalid")
    return parts[4], parts[5].rsplit("/", 1)[1]


def check_session_tags(tags: Iterable[dict[str, Any]] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    lowered: set[str] = set()
    for tag in tags or ():
        key, value = str(tag.get("Key", "")), str(tag.get("Value", ""))
        check_pattern(key, TAG_KEY_RE, "tags.member.key")
        check_pattern(value, TAG_VALUE_RE, "tags.member.value")
        if key.lower() in lowered:
            raise validation(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        lowered.add(key.lower())
        out[key] = value
    if len(out) > MAX_SESSION_TAGS:
        raise validation(f"Member must have length less than or equal to {MAX_SESSION_TAGS}")
    return out


def merge_tags(base: dict[str, str], override: dict[str, str]) -> dict[str, str]:
    """``override`` wins over ``base``; keys compare case-insensitively."""
    dropped = {k.lower() for k in override}
    merged = {k: v for k, v in base.items() if k.lower() not in dropped}
    merged.update(override)
    return merged


def packed_percent(policy: str | None, arns: list[str], tags: dict[str, str]) -> int:
    size = sum(len(a) for a in arns) + sum(len(k) + len(v) for k, v in tags.items())
    if policy:
        size += len(json.dumps(json.loads(policy), separators=(",", ":")))
    percent = math.ceil(size * 100 / PACKED_LIMIT)
    if percent > 100:
        raise packed_policy_too_large(
            f"Packed policy consumes {percent}% of allotted space, please use smaller policy."
        )
    return percent


def check_duration(
    value: Any, *, default: int, minimum: int, maximum: int, message: str | None = None
) -> int:
    seconds = default if value is None else int(value)
    if seconds < minimum:
        raise validation(
            f"1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to "
            f"satisfy constraint: Member must have value greater than or equal to {minimum}"
        )
    if seconds > maximum:
        raise validation(
            message
            or f"1 validation error detected: Value '{seconds}' at 'durationSeconds' failed "
            f"to satisfy constraint: Member must have value less than or equal to {maximum}"
        )
    return seconds


def new_session_ids() -> tuple[str, str, str]:
    """(access key id, secret access key, session token) of a new session."""
    return new_id(SESSION_KEY_PREFIX), new_secret_access_key(), new_session_token()


def session_record(
    principal: Principal,
    secret: str,
    token: str,
    created: datetime,
    expires: datetime,
    transitive_tag_keys: list[str] | None = None,
) -> KeyRecord:
    """The stored form of a session: the token itself is never kept, only its digest."""
    return KeyRecord(
        access_key_id=principal.access_key_id,
        secret=secret,
        account=principal.account_id,
        kind="session",
        created=iso(created),
        expires=iso(expires),
        token_sha256=token_digest(token).hex(),
        session=principal_to_dict(principal),
        transitive_tag_keys=list(transitive_tag_keys or ()),
    )


def credentials_out(
    access_key_id: str, secret: str, token: str, expires: datetime
) -> dict[str, Any]:
    return {
        "AccessKeyId": access_key_id,
        "SecretAccessKey": secret,
        "SessionToken": token,
        "Expiration": expires,
    }
