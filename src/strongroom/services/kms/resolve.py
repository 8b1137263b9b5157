"""KeyId parameters: key ids, key ARNs, alias names and alias ARNs.

KMS accepts four spellings wherever a key is named: ``1234abcd-…`` (or a
multi-Region ``mrk-…`` id), ``arn:aws:kms:REGION:ACCOUNT:key/ID``,
``alias/NAME`` and ``arn:aws:kms:REGION:ACCOUNT:alias/NAME``. Only the ARNs
can name another account's key. Management operations (EnableKey,
PutKeyPolicy, …) do not accept aliases. Parsing is cached: the same few
strings arrive on every request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from strongroom.errors import ServiceError
from strongroom.services.kms import errors
from strongroom.services.kms.records import alias_arn, key_arn

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MRK = re.compile(r"^mrk-[0-9a-fA-F]{32}$")
_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):([0-9]{12}):(.+)$")
ALIAS_NAME = re.compile(r"^alias/[a-zA-Z0-9:/_-]+$")

_MAX_CACHE = 10_000


@dataclass(frozen=True, slots=True)
class KeyRef:
    account: str
    region: str
    key_id: str | None  # None when the reference is an alias
    alias: str | None  # "alias/…" when the reference is an alias

    @property
    def arn(self) -> str:
        if self.key_id is not None:
            return key_arn(self.region, self.account, self.key_id)
        assert self.alias is not None
        return alias_arn(self.region, self.account, self.alias)


def is_key_id(value: str) -> bool:
    return bool(_UUID.match(value) or _MRK.match(value))


def _parse(value: str, account: str, region: str, allow_alias: bool) -> KeyRef:
    if is_key_id(value):
        return KeyRef(account, region, value.lower(), None)
    if value.startswith("alias/"):
        if not allow_alias or not ALIAS_NAME.match(value):
            raise errors.invalid_key_id(value)
        return KeyRef(account, region, None, value)
    match = _ARN.match(value)
    if match is None:
        if value.startswith("arn:"):
            raise errors.invalid_arn(f"Invalid arn {value}")
        raise errors.invalid_key_id(value)
    arn_region, arn_account, resource = match.groups()
    if resource.startswith("key/") and is_key_id(resource[4:]):
        ref = KeyRef(arn_account, arn_region, resource[4:].lower(), None)
    elif resource.startswith("alias/") and ALIAS_NAME.match(resource):
        if not allow_alias:
            raise errors.invalid_arn(f"Invalid arn {value}")
        ref = KeyRef(arn_account, arn_region, None, resource)
    else:
        raise errors.invalid_arn(f"Invalid arn {value}")
    if arn_region != region:
        # A key lives in one Region; another Region's endpoint does not know it.
        raise errors.not_found(
            f"Key '{value}' does not exist"
            if ref.key_id is not None
            else f"Alias {value} is not found."
        )
    return ref


class KeyRefParser:
    """Parse KeyId values, remembering recent answers (errors are not cached)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str, bool], KeyRef] = {}

    def parse(self, value: str, account: str, region: str, *, allow_alias: bool) -> KeyRef:
        cache_key = (value, account, region, allow_alias)
        found = self._cache.get(cache_key)
        if found is not None:
            return found
        if not isinstance(value, str) or not value:
            raise errors.invalid_key_id(str(value))
        ref = _parse(value, account, region, allow_alias)
        if len(self._cache) >= _MAX_CACHE:
            self._cache.clear()
        self._cache[cache_key] = ref
        return ref


def require_key_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ServiceError(
            "ValidationException",
            "1 validation error detected: Value null at 'keyId' failed to satisfy "
            "constraint: Member must not be null",
        )
    return value
