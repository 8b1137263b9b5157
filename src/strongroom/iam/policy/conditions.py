"""Condition operators: parsed and compiled once, tested per request.

Semantics, from the IAM User Guide ("Condition operators", "Conditions with
multiple context keys or values", "Single-valued vs. multivalued context keys"):

* several operators in a Condition block, and several keys under one
  operator, are ANDed; several values for one key are ORed, except for
  negated operators (StringNotEquals, NotIpAddress, ArnNotLike, ...), whose
  values are NORed: the condition holds when the request value matches none;
* a key missing from the request makes a condition false, except that a
  negated operator is then *true* ("If the policy condition requires that the
  key is not matched, such as StringNotLike or ArnNotLike, and the right key is
  not present, the condition is true");
* ``...IfExists``: a missing key makes the condition true;
* ``Null``: ``true`` holds when the key is absent, ``false`` when present;
* ``ForAllValues:`` holds when every request value satisfies the operator, and
  also when the key is missing or its value set is empty; ``ForAnyValue:`` holds
  when at least one request value does, and is false for a missing key/empty set;
* policy variables only in string, ARN and Bool values (not Numeric, Date,
  Binary, IpAddress or Null);
* condition keys are case-insensitive, values case-sensitive except for the
  ``...IgnoreCase`` operators.

A multivalued request value tested without a set qualifier is treated as a
set: a positive operator holds if any request value matches, a negated one if
none does (AWS recommends a qualifier there; this is the natural reading).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Final

from strongroom.iam.policy.matching import PatternSet
from strongroom.iam.policy.variables import (
    ContextView,
    Token,
    has_variables,
    parse_template,
    template_keys,
)

Matcher = Callable[[str, ContextView], bool]


class ConditionError(ValueError):
    """A condition that cannot be parsed; document.py adds where it is."""


@dataclass(frozen=True, slots=True)
class _OpInfo:
    name: str  # canonical spelling
    family: str
    negated: bool = False
    compare: str = "eq"


_OPS: Final[dict[str, _OpInfo]] = {
    info.name.lower(): info
    for info in (
        _OpInfo("StringEquals", "string"),
        _OpInfo("StringNotEquals", "string", True),
        _OpInfo("StringEqualsIgnoreCase", "string", False, "ic"),
        _OpInfo("StringNotEqualsIgnoreCase", "string", True, "ic"),
        _OpInfo("StringLike", "string", False, "like"),
        _OpInfo("StringNotLike", "string", True, "like"),
        _OpInfo("NumericEquals", "numeric"),
        _OpInfo("NumericNotEquals", "numeric", True),
        _OpInfo("NumericLessThan", "numeric", False, "lt"),
        _OpInfo("NumericLessThanEquals", "numeric", False, "le"),
        _OpInfo("NumericGreaterThan", "numeric", False, "gt"),
        _OpInfo("NumericGreaterThanEquals", "numeric", False, "ge"),
        _OpInfo("DateEquals", "date"),
        _OpInfo("DateNotEquals", "date", True),
        _OpInfo("DateLessThan", "date", False, "lt"),
        _OpInfo("DateLessThanEquals", "date", False, "le"),
        _OpInfo("DateGreaterThan", "date", False, "gt"),
        _OpInfo("DateGreaterThanEquals", "date", False, "ge"),
        _OpInfo("Bool", "bool"),
        _OpInfo("BinaryEquals", "binary"),
        _OpInfo("IpAddress", "ip"),
        _OpInfo("NotIpAddress", "ip", True),
        _OpInfo("ArnEquals", "arn"),
        _OpInfo("ArnLike", "arn"),
        _OpInfo("ArnNotEquals", "arn", True),
        _OpInfo("ArnNotLike", "arn", True),
        _OpInfo("Null", "null"),
    )
}

OPERATOR_NAMES: Final = tuple(sorted(info.name for info in _OPS.values()))

_COMPARE: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "eq": operator.eq,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}

_VARIABLE_FAMILIES: Final = frozenset({"string", "arn", "bool"})


# ---------------------------------------------------------------- value parsing


def parse_number(text: str) -> Decimal | None:
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


_EPOCH = re.compile(r"-?\d+(?:\.\d+)?")
_YEAR = re.compile(r"(\d{4})(?:-(\d{2}))?")


def parse_date(text: str) -> float | None:
    """Seconds since the epoch for a W3C ISO 8601 date/time or an epoch number."""
    s = text.strip()
    if _EPOCH.fullmatch(s):
        return float(s)
    m = _YEAR.fullmatch(s)  # "YYYY" and "YYYY-MM" are W3C forms fromisoformat lacks
    try:
        if m is not None:
            dt = datetime(int(m.group(1)), int(m.group(2) or 1), 1, tzinfo=UTC)
        else:
            dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=1024)
def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    # the same few client addresses come back request after request
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _context_bytes(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.encode()


# ---------------------------------------------------------------- matchers


def _string_matcher(info: _OpInfo, values: Sequence[str], variables: bool) -> Matcher:
    if info.compare == "like":
        patterns = PatternSet(values, arn=False, ignore_case=False, variables=variables)
        return lambda v, ctx: patterns.matches(v, ctx)
    fold = info.compare == "ic"
    static: set[str] = set()
    dynamic: list[tuple[Token, ...]] = []
    for raw in values:
        tokens = parse_template(raw, variables=variables, wildcards=False)
        if has_variables(tokens):
            dynamic.append(tokens)
        else:
            static.add(raw.casefold() if fold else raw)
    frozen = frozenset(static)

    def match(v: str, ctx: ContextView) -> bool:
        if fold:
            v = v.casefold()
        if v in frozen:
            return True
        for tokens in dynamic:
            want = ctx.substitute(tokens)
            if (want.casefold() if fold else want) == v:
                return True
        return False

    return match


def _numeric_matcher(info: _OpInfo, values: Sequence[str]) -> Matcher:
    nums = []
    for raw in values:
        n = parse_number(raw)
        if n is None:
            raise ConditionError(f"{info.name} value {raw!r} is not a number")
        nums.append(n)
    cmp = _COMPARE[info.compare]

    def match(v: str, ctx: ContextView) -> bool:
        have = parse_number(v)
        return have is not None and any(cmp(have, n) for n in nums)

    return match


def _date_matcher(info: _OpInfo, values: Sequence[str]) -> Matcher:
    stamps = []
    for raw in values:
        t = parse_date(raw)
        if t is None:
            raise ConditionError(
                f"{info.name} value {raw!r} is not an ISO 8601 date/time or epoch seconds"
            )
        stamps.append(t)
    cmp = _COMPARE[info.compare]

    def match(v: str, ctx: ContextView) -> bool:
        have = parse_date(v)
        return have is not None and any(cmp(have, t) for t in stamps)

    return match


def _bool_matcher(info: _OpInfo, values: Sequence[str], variables: bool) -> Matcher:
    static: set[str] = set()
    dynamic: list[tuple[Token, ...]] = []
    for raw in values:
        tokens = parse_template(raw, variables=variables, wildcards=False)
        if has_variables(tokens):
            dynamic.append(tokens)
        elif raw.lower() in ("true", "false"):
            static.add(raw.lower())
        else:
            raise ConditionError(f'Bool value {raw!r} must be "true" or "false"')

    def match(v: str, ctx: ContextView) -> bool:
        v = v.lower()
        return v in static or any(ctx.substitute(t).lower() == v for t in dynamic)

    return match


def _binary_matcher(info: _OpInfo, values: Sequence[str]) -> Matcher:
    blobs = set()
    for raw in values:
        try:
            blobs.add(base64.b64decode(raw, validate=True))
        except (binascii.Error, ValueError):
            raise ConditionError(f"BinaryEquals value {raw!r} is not valid base64") from None
    return lambda v, ctx: _context_bytes(v) in blobs


def _ip_matcher(info: _OpInfo, values: Sequence[str]) -> Matcher:
    nets = []
    for raw in values:
        net = _parse_network(raw)
        if net is None:
            raise ConditionError(f"{info.name} value {raw!r} is not an IP address or CIDR block")
        nets.append(net)

    def match(v: str, ctx: ContextView) -> bool:
        addr = _parse_ip(v)
        return addr is not None and any(addr in net for net in nets)  # False across versions

    return match


def _arn_matcher(info: _OpInfo, values: Sequence[str], variables: bool) -> Matcher:
    patterns = PatternSet(values, arn=True, ignore_case=False, variables=variables)
    return lambda v, ctx: patterns.matches(v, ctx)


# ---------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True)
class Condition:
    """One (operator, key, values) triple of a Condition block."""

    operator: str  # as written in the policy, e.g. "ForAnyValue:StringLikeIfExists"
    key_name: str  # as written in the policy
    key: str  # lower-cased context key
    values: tuple[str, ...]
    negated: bool
    if_exists: bool
    qualifier: str | None  # "all" | "any" | None
    null_expect_absent: bool | None  # for Null: True = key must be absent
    match_one: Matcher
    variables: frozenset[str]  # context keys used as ${variables}

    def test(self, ctx: ContextView) -> bool:
        """Raises ``Unresolved`` when a ${variable} in a value has no value."""
        have = ctx.get(self.key)
        if self.null_expect_absent is not None:
            absent = not have  # None or an empty set
            return absent if self.null_expect_absent else not absent
        if have is None:
            if self.if_exists or self.qualifier == "all":
                return True
            if self.qualifier == "any":
                return False
            return self.negated
        match = self.match_one
        if self.qualifier == "all":
            if self.negated:
                return all(not match(v, ctx) for v in have)
            return all(match(v, ctx) for v in have)
        if self.qualifier == "any":
            if self.negated:
                return any(not match(v, ctx) for v in have)
            return any(match(v, ctx) for v in have)
        hit = any(match(v, ctx) for v in have)
        return not hit if self.negated else hit


def _split_operator(name: str) -> tuple[str | None, _OpInfo, bool]:
    qualifier: str | None = None
    rest = name
    low = name.lower()
    if low.startswith("forallvalues:"):
        qualifier, rest = "all", name[len("ForAllValues:") :]
    elif low.startswith("foranyvalue:"):
        qualifier, rest = "any", name[len("ForAnyValue:") :]
    if_exists = rest.lower().endswith("ifexists")
    base = rest[: -len("IfExists")] if if_exists else rest
    info = _OPS.get(base.lower())
    if info is None:
        raise ConditionError(f"unknown condition operator {name!r}")
    if info.family == "null" and (if_exists or qualifier):
        raise ConditionError(
            f"condition operator {name!r}: Null takes no IfExists or set qualifier"
        )
    return qualifier, info, if_exists


def compile_condition(
    op_name: str, key: str, values: Sequence[str], *, variables: bool
) -> Condition:
    """Build one condition; ``values`` are the policy values already turned to strings."""
    qualifier, info, if_exists = _split_operator(op_name)
    if not values:
        raise ConditionError(f"{op_name} has no value for key {key!r}")
    use_vars = variables and info.family in _VARIABLE_FAMILIES
    null_expect: bool | None = None
    match: Matcher
    if info.family == "string":
        match = _string_matcher(info, values, use_vars)
    elif info.family == "numeric":
        match = _numeric_matcher(info, values)
    elif info.family == "date":
        match = _date_matcher(info, values)
    elif info.family == "bool":
        match = _bool_matcher(info, values, use_vars)
    elif info.family == "binary":
        match = _binary_matcher(info, values)
    elif info.family == "ip":
        match = _ip_matcher(info, values)
    elif info.family == "arn":
        match = _arn_matcher(info, values, use_vars)
    else:  # null
        lowered = {v.lower() for v in values}
        if not lowered <= {"true", "false"} or len(lowered) != 1:
            raise ConditionError(f'Null value for key {key!r} must be "true" or "false"')
        null_expect = lowered == {"true"}
        match = _never
    var_keys: set[str] = set()
    if use_vars:
        for raw in values:
            var_keys |= template_keys(parse_template(raw, variables=True, wildcards=False))
    return Condition(
        operator=op_name,
        key_name=key,
        key=key.lower(),
        values=tuple(values),
        negated=info.negated,
        if_exists=if_exists,
        qualifier=qualifier,
        null_expect_absent=null_expect,
        match_one=match,
        variables=frozenset(var_keys),
    )


def _never(v: str, ctx: ContextView) -> bool:
    return False
