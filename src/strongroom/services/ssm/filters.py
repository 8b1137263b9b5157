"""ParameterFilters (and the deprecated Filters) of DescribeParameters and
GetParametersByPath (API reference, "ParameterStringFilter").

DescribeParameters accepts every key but ``Label``; GetParametersByPath only
``Type``, ``KeyId`` and ``Label``. Options are ``Equals`` (the default) and
``BeginsWith``; ``Name`` also takes ``Contains``; ``Path`` takes
``Recursive`` and ``OneLevel`` (the default); ``Label`` only ``Equals``. A
``tag:KEY`` filter without values matches every parameter with that tag key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from strongroom.errors import ServiceError
from strongroom.services.ssm import errors
from strongroom.services.ssm.names import check_path
from strongroom.services.ssm.records import Parameter, Version

DESCRIBE_KEYS = ("Name", "Type", "KeyId", "Path", "Tier", "DataType")
BY_PATH_KEYS = ("Type", "KeyId", "Label")
_TYPES = ("String", "StringList", "SecureString")
_TIERS = ("Standard", "Advanced", "Intelligent-Tiering")
_OPTIONS = ("Equals", "BeginsWith")


@dataclass(frozen=True)
class Filter:
    key: str
    option: str
    values: tuple[str, ...]


def _options_for(key: str) -> tuple[str, ...]:
    if key == "Path":
        return ("Recursive", "OneLevel")
    if key == "Name":
        return ("Equals", "BeginsWith", "Contains")
    if key == "Label":
        return ("Equals",)
    return _OPTIONS


def _check_values(key: str, values: tuple[str, ...]) -> None:
    if not values and not key.startswith("tag:"):
        raise errors.invalid_filter_value(
            f"The following filter values are missing : null for filter key {key}."
        )
    allowed = _TYPES if key == "Type" else _TIERS if key == "Tier" else None
    for value in values:
        if allowed is not None and value not in allowed:
            raise errors.invalid_filter_value(
                f"The following filter value is not valid: {value}. Valid values include: "
                f"[{', '.join(allowed)}]."
            )
        if key == "Path":
            try:
                check_path(value)
            except ServiceError:
                raise errors.invalid_filter_value(
                    f"The following filter value is not valid: {value}. A Path value must "
                    "begin with a forward slash and use only letters, numbers, . - _ and /."
                ) from None


def parse(raw: Sequence[dict[str, Any]] | None, *, by_path: bool) -> list[Filter]:
    allowed = BY_PATH_KEYS if by_path else DESCRIBE_KEYS
    shown = ", ".join(allowed) + ("" if by_path else ", tag:<key>")
    out: list[Filter] = []
    seen: set[str] = set()
    for item in raw or []:
        key = str(item.get("Key", ""))
        if key not in allowed and (by_path or not key.startswith("tag:") or key == "tag:"):
            raise errors.invalid_filter_key(
                f"The following filter key is not valid: {key}. Valid filter keys include: "
                f"[{shown}]."
            )
        if key in seen:
            raise errors.invalid_filter_key(
                f"The following filter is duplicated in the request: {key}. A request can "
                "contain only one occurrence of a specific filter."
            )
        seen.add(key)
        options = _options_for(key)
        option = str(item.get("Option") or ("OneLevel" if key == "Path" else "Equals"))
        if option not in options:
            raise errors.invalid_filter_option(
                f"The following filter option is not valid: {option}. Valid options include: "
                f"[{', '.join(options)}]."
            )
        values = tuple(str(v) for v in item.get("Values") or ())
        _check_values(key, values)
        out.append(Filter(key, option, values))
    return out


def from_legacy(raw: Sequence[dict[str, Any]] | None) -> list[Filter]:
    """The deprecated ``Filters`` (Name, Type, KeyId): Name matches as a prefix."""
    out: list[Filter] = []
    for item in raw or []:
        key = str(item.get("Key", ""))
        if key not in ("Name", "Type", "KeyId"):
            raise errors.invalid_filter_key(
                f"The following filter key is not valid: {key}. Valid filter keys include: "
                "[Name, Type, KeyId]."
            )
        values = tuple(str(v) for v in item.get("Values") or ())
        _check_values(key, values)
        out.append(Filter(key, "BeginsWith" if key == "Name" else "Equals", values))
    return out


def _text(option: str, actual: str | None, values: tuple[str, ...]) -> bool:
    if actual is None:
        return False
    if option == "BeginsWith":
        return any(actual.startswith(v) for v in values)
    if option == "Contains":
        return any(v in actual for v in values)
    return actual in values


def in_path(name: str, prefix: str, recursive: bool) -> bool:
    """Is ``name`` under the path whose scan prefix is ``prefix`` ("/a/" or "/")?

    The root path "/" also holds the names without any slash.
    """
    if prefix == "/" and "/" not in name:
        return True
    if not name.startswith(prefix):
        return False
    return recursive or "/" not in name[len(prefix) :]


def matches(param: Parameter, version: Version, f: Filter) -> bool:
    key = f.key
    if key == "Name":
        if f.option == "Contains":
            return _text(f.option, param.name, f.values)
        # Equals/BeginsWith: the leading slash of a hierarchical name is optional.
        return _text(f.option, param.name.lstrip("/"), tuple(v.lstrip("/") for v in f.values))
    if key == "Type":
        return _text(f.option, version.type, f.values)
    if key == "KeyId":
        return _text(f.option, version.key_id, f.values)
    if key == "Tier":
        return _text(f.option, version.tier, f.values)
    if key == "DataType":
        return _text(f.option, version.data_type, f.values)
    if key == "Path":
        recursive = f.option == "Recursive"
        return any(in_path(param.name, check_path(v), recursive) for v in f.values)
    if key == "Label":
        return any(label in param.labels for label in f.values)
    tag_key = key[len("tag:") :]
    if tag_key not in param.tags:
        return False
    return not f.values or _text(f.option, param.tags[tag_key], f.values)


def match_all(param: Parameter, version: Version, filters: Sequence[Filter]) -> bool:
    return all(matches(param, version, f) for f in filters)
