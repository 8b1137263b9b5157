"""EventBridge event patterns: validation and matching (pure).

A pattern is a JSON object shaped like the events it matches. A key maps
either to a nested object (recurse into the event's object at that key) or
to a non-empty array of *matchers*, any one of which may match (OR); all
keys must match (AND). ``$or`` at any object level holds two or more
sub-patterns, any one of which must match in addition to the sibling keys.

Matchers (EventBridge User Guide, "Content filtering"): exact string,
number (compared as numbers: 300 matches 300.0), ``true``/``false``/``null``;
``prefix`` / ``suffix`` (a string, or ``{"equals-ignore-case": s}``);
``equals-ignore-case``; ``wildcard`` (``*`` any run of characters, ``\\*``
a literal star, ``**`` refused); ``anything-but`` (a value, a list of
values, or ``{"prefix"|"suffix"|"equals-ignore-case"|"wildcard": ...}``);
``numeric`` (one or two comparisons, e.g. ``[">", 0, "<=", 5]``);
``exists`` (true/false); ``cidr``.

Where the event holds an array, the pattern matches when any element does.
A missing field matches only ``{"exists": false}``; in particular
``anything-but`` needs the field to be present, as in EventBridge.

``compile_pattern`` validates once (PutRule / TestEventPattern) and raises
:class:`InvalidPattern` with the reason; ``matches`` then never raises.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_NUMERIC_OPS = frozenset({"<", "<=", "=", ">", ">="})
_MISSING = object()


class InvalidPattern(ValueError):
    """The pattern is not a valid EventBridge event pattern; str() is the reason."""


@dataclass(frozen=True)
class Pattern:
    """A validated pattern (the parsed JSON object)."""

    tree: Mapping[str, Any]


def parse_pattern(text: str) -> Pattern:
    """Parse and validate pattern JSON text."""
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidPattern(f"Pattern is not valid JSON: {exc}") from None
    return compile_pattern(tree)


def compile_pattern(tree: Any) -> Pattern:
    if not isinstance(tree, dict):
        raise InvalidPattern("Filter is not an object")
    if not tree:
        raise InvalidPattern("Empty objects are not allowed")
    _check_object(tree, "")
    return Pattern(tree)


# ---------------------------------------------------------------- validation


def _check_object(obj: Mapping[str, Any], path: str) -> None:
    if not obj:
        raise InvalidPattern(f"Empty objects are not allowed (at {path or 'the top level'})")
    for key, value in obj.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise InvalidPattern(f"$or must be an array of at least 2 patterns (at {where})")
            for branch in value:
                if not isinstance(branch, dict):
                    raise InvalidPattern(f"Each $or branch must be an object (at {where})")
                _check_object(branch, path)
        elif isinstance(value, dict):
            _check_object(value, where)
        elif isinstance(value, list):
            if not value:
                raise InvalidPattern(f"Empty arrays are not allowed (at {where})")
            for matcher in value:
                _check_matcher(matcher, where)
        else:
            raise InvalidPattern(f"Match value must be an array or an object (at {where})")


def _check_string_or_eic(value: Any, op: str, where: str) -> None:
    if isinstance(value, dict):
        if list(value) != ["equals-ignore-case"] or not isinstance(
            value["equals-ignore-case"], str
        ):
            raise InvalidPattern(
                f'{op} match pattern must be a string or {{"equals-ignore-case": string}} '
                f"(at {where})"
            )
        return
    if not isinstance(value, str):
        raise InvalidPattern(f"{op} match pattern must be a string (at {where})")


def _check_wildcard(value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise InvalidPattern(f"wildcard match pattern must be a string (at {where})")
    if "**" in value:
        raise InvalidPattern(f"Consecutive wildcard characters are not allowed (at {where})")


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _check_matcher(matcher: Any, where: str) -> None:
    if _is_scalar(matcher):
        return
    if not isinstance(matcher, dict):
        raise InvalidPattern(f"Match value must be a string, number, null or object (at {where})")
    if len(matcher) != 1:
        raise InvalidPattern(f"A match object must have exactly one key (at {where})")
    ((op, arg),) = matcher.items()
    if op in ("prefix", "suffix"):
        _check_string_or_eic(arg, op, where)
    elif op == "equals-ignore-case":
        if not isinstance(arg, str):
            raise InvalidPattern(f"equals-ignore-case match pattern must be a string (at {where})")
    elif op == "wildcard":
        _check_wildcard(arg, where)
    elif op == "exists":
        if not isinstance(arg, bool):
            raise InvalidPattern(f"exists match pattern must be true or false (at {where})")
    elif op == "numeric":
        _check_numeric(arg, where)
    elif op == "cidr":
        if not isinstance(arg, str):
            raise InvalidPattern(f"cidr match pattern must be a string (at {where})")
        try:
            ipaddress.ip_network(arg, strict=False)
        except ValueError:
            raise InvalidPattern(f"Malformed CIDR {arg!r} (at {where})") from None
    elif op == "anything-but":
        _check_anything_but(arg, where)
    else:
        raise InvalidPattern(f"Unrecognized match type {op} (at {where})")


def _check_numeric(arg: Any, where: str) -> None:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise InvalidPattern(
            f"numeric match pattern must be an array of one or two comparisons (at {where})"
        )
    for i in range(0, len(arg), 2):
        op, number = arg[i], arg[i + 1]
        if op not in _NUMERIC_OPS:
            raise InvalidPattern(f"Unrecognized numeric range operator {op!r} (at {where})")
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise InvalidPattern(f"Value of {op} must be numeric (at {where})")
    if len(arg) == 4 and (arg[0] in ("=",) or arg[2] in ("=",)):
        raise InvalidPattern(f"'=' cannot be combined in a numeric range (at {where})")


def _check_anything_but(arg: Any, where: str) -> None:
    if isinstance(arg, dict):
        if len(arg) != 1:
            raise InvalidPattern(f"anything-but object must have exactly one key (at {where})")
        ((op, value),) = arg.items()
        if op in ("prefix", "suffix", "equals-ignore-case"):
            values = value if isinstance(value, list) and op == "equals-ignore-case" else [value]
            if not values or not all(isinstance(v, str) for v in values):
                raise InvalidPattern(f"anything-but {op} must be a string (at {where})")
        elif op == "wildcard":
            for v in value if isinstance(value, list) else [value]:
                _check_wildcard(v, where)
        else:
            raise InvalidPattern(f"Unsupported anything-but pattern: {op} (at {where})")
        return
    values = arg if isinstance(arg, list) else [arg]
    if not values:
        raise InvalidPattern(f"anything-but list must not be empty (at {where})")
    strings = all(isinstance(v, str) for v in values)
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if not (strings or numbers):
        raise InvalidPattern(f"anything-but values must be all strings or all numbers (at {where})")


# ------------------------------------------------------------------ matching


def matches(pattern: Pattern, event: Mapping[str, Any]) -> bool:
    """Whether ``event`` (a parsed JSON object) matches the validated pattern."""
    return _match_object(pattern.tree, event)


def _match_object(pattern: Mapping[str, Any], event: Any) -> bool:
    for key, expected in pattern.items():
        if key == "$or":
            if not any(_match_object(branch, event) for branch in expected):
                return False
            continue
        actual = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(expected, dict):
            # EventBridge matches flattened paths: where the event has no
            # object here, every field below is absent (so exists:false holds).
            listed = actual if isinstance(actual, list) else [actual]
            candidates = [c for c in listed if isinstance(c, dict)] or [{}]
            if not any(_match_object(expected, c) for c in candidates):
                return False
        elif not _match_leaf(expected, actual):
            return False
    return True


def _match_leaf(matchers: list[Any], actual: Any) -> bool:
    if actual is _MISSING:
        return any(isinstance(m, dict) and m.get("exists") is False for m in matchers)
    values = actual if isinstance(actual, list) else [actual]
    return any(_match_one(m, v) for m in matchers for v in values)


def _same(expected: Any, value: Any) -> bool:
    """JSON equality: booleans are not numbers; numbers compare by value."""
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(expected, bool) and isinstance(value, bool) and expected == value
    if expected is None or value is None:
        return expected is None and value is None
    if isinstance(expected, str) or isinstance(value, str):
        return isinstance(expected, str) and isinstance(value, str) and expected == value
    return bool(expected == value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _match_one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, dict):
        return _same(matcher, value)
    ((op, arg),) = matcher.items()
    if op == "exists":
        return bool(arg)  # the field is present (a missing one never gets here)
    if op == "anything-but":
        return _anything_but(arg, value)
    if op == "numeric":
        number = _number(value)
        return number is not None and _numeric(arg, number)
    if not isinstance(value, str):
        return False
    if op == "prefix":
        return _affix(arg, value, str.startswith)
    if op == "suffix":
        return _affix(arg, value, str.endswith)
    if op == "equals-ignore-case":
        return value.casefold() == str(arg).casefold()
    if op == "wildcard":
        return _wildcard(str(arg)).fullmatch(value) is not None
    if op == "cidr":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(arg, strict=False)
        except (ValueError, TypeError):
            return False
    return False


def _affix(arg: Any, value: str, test: Any) -> bool:
    if isinstance(arg, dict):
        return bool(test(value.casefold(), str(arg["equals-ignore-case"]).casefold()))
    return bool(test(value, arg))


def _numeric(arg: list[Any], number: float) -> bool:
    for i in range(0, len(arg), 2):
        op, bound = arg[i], float(arg[i + 1])
        ok = {
            "<": number < bound,
            "<=": number <= bound,
            "=": number == bound,
            ">": number > bound,
            ">=": number >= bound,
        }[op]
        if not ok:
            return False
    return True


def _anything_but(arg: Any, value: Any) -> bool:
    if isinstance(arg, dict):
        ((op, inner),) = arg.items()
        if not isinstance(value, str):
            # A non-string is "anything but" a string condition.
            return True
        if op == "prefix":
            return not value.startswith(inner)
        if op == "suffix":
            return not value.endswith(inner)
        if op == "equals-ignore-case":
            options = inner if isinstance(inner, list) else [inner]
            return value.casefold() not in {o.casefold() for o in options}
        if op == "wildcard":
            options = inner if isinstance(inner, list) else [inner]
            return not any(_wildcard(o).fullmatch(value) for o in options)
        return False
    options = arg if isinstance(arg, list) else [arg]
    return not any(_same(option, value) for option in options)


@lru_cache(maxsize=1024)
def _wildcard(text: str) -> re.Pattern[str]:
    """``*`` matches any run of characters; ``\\*`` is a literal star."""
    parts: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "*\\":
            parts.append(re.escape(text[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)
