"""Wildcard, ARN and principal matching, compiled once at parse time.

Two wildcard styles exist in the policy language:

* whole-string (Action, StringLike): ``*`` matches any run of characters,
  ``?`` any one character;
* ARN (Resource, NotResource, ArnLike): "each of the six colon-delimited
  components of the ARN is checked separately" (IAM User Guide, condition
  operators, ARN section), so a wildcard in the partition/service/region/
  account parts never crosses a ``:``; the resource part (after the fifth
  colon) may itself contain ``:`` and ``/``, and a wildcard there matches them.

Static patterns of one element are merged into one alternation regex plus a
set of exact strings, so matching a typical statement costs a set lookup or
one ``fullmatch``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from strongroom.iam.policy.variables import (
    ContextView,
    Token,
    Var,
    Wild,
    has_variables,
    parse_template,
)

_ACCOUNT_ROOT = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):root")
_ACCOUNT_ID = re.compile(r"\d{12}")


def account_of(principal: str) -> str | None:
    """The account a principal string names as a whole ("123456789012" or ".../root")."""
    if _ACCOUNT_ID.fullmatch(principal):
        return principal
    m = _ACCOUNT_ROOT.fullmatch(principal)
    return m.group(1) if m else None


def _regex(tokens: Sequence[Token], arn: bool, ctx: ContextView | None) -> str:
    # In ARN style, count colons in the literal text to know which segment a
    # wildcard sits in. A pattern with fewer than five colons (e.g. "arn:*")
    # lets the wildcards of its last segment span the rest of the ARN.
    total = sum(t.count(":") for t in tokens if isinstance(t, str)) if arn else 0
    parts: list[str] = []
    colons = 0
    for t in tokens:
        if isinstance(t, str):
            parts.append(re.escape(t))
            if arn:
                colons += t.count(":")
        elif isinstance(t, Var):
            if ctx is None:  # pragma: no cover - callers pass ctx for dynamic patterns
                raise ValueError("variable pattern compiled without a context")
            parts.append(re.escape(ctx.resolve(t)))
        else:
            spans = not arn or colons >= 5 or (total < 5 and colons == total)
            if t.char == "*":
                parts.append(".*" if spans else "[^:]*")
            else:
                parts.append("." if spans else "[^:]")
    return "".join(parts)


class PatternSet:
    """A list of wildcard patterns matched as one (true if any matches)."""

    __slots__ = ("_arn", "_dynamic", "_exact", "_fold", "_regex", "match_all")

    def __init__(
        self,
        patterns: Iterable[str],
        *,
        arn: bool,
        ignore_case: bool,
        variables: bool,
    ) -> None:
        self._arn = arn
        self._fold = ignore_case
        self.match_all = False
        exact: set[str] = set()
        static: list[str] = []
        dynamic: list[tuple[Token, ...]] = []
        for raw in patterns:
            text = raw.lower() if ignore_case else raw
            if text == "*":
                self.match_all = True
            tokens = parse_template(text, variables=variables, wildcards=True)
            if has_variables(tokens):
                dynamic.append(tokens)
            elif all(isinstance(t, str) for t in tokens):
                exact.add("".join(t for t in tokens if isinstance(t, str)))
            else:
                static.append(_regex(tokens, arn, None))
        self._exact = frozenset(exact)
        flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
        self._regex = re.compile("|".join(f"(?:{s})" for s in static), flags) if static else None
        self._dynamic = tuple(dynamic)

    def matches(self, value: str, ctx: ContextView | None = None) -> bool:
        """Raises :class:`~strongroom.iam.policy.variables.Unresolved` for a missing variable."""
        if self.match_all:
            return True
        if self._fold:
            value = value.lower()
        if value in self._exact:
            return True
        if self._regex is not None and self._regex.fullmatch(value) is not None:
            return True
        for tokens in self._dynamic:
            flags = re.DOTALL | (re.IGNORECASE if self._fold else 0)
            # re.compile keeps its own cache, so a repeated value costs a lookup
            if re.fullmatch(_regex(tokens, self._arn, ctx), value, flags) is not None:
                return True
        return False


def wildcard_match(
    pattern: str, value: str, *, arn: bool = False, ignore_case: bool = False
) -> bool:
    """One-off match of a literal wildcard pattern (no variables)."""
    tokens = parse_template(pattern, variables=False, wildcards=True)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    if not any(isinstance(t, Wild) for t in tokens):
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return re.fullmatch(_regex(tokens, arn, None), value, flags) is not None


class Grant(IntEnum):
    """How a resource-policy statement named the caller; ordered weakest first.

    The evaluator needs this because AWS treats the three differently within
    one account (see evaluate.py).
    """

    ACCOUNT = 1  # the caller's account (id or ":root"): delegation to the account
    PARENT = 2  # the entity behind a session (role ARN for a role session)
    DIRECT = 3  # the calling principal itself, "*", a service or federated principal


@dataclass(frozen=True, slots=True)
class Caller:
    """The identities one request can be matched by in a Principal element."""

    arn: str
    parents: tuple[str, ...]  # non-account ids: role ARN of a session, etc.
    accounts: frozenset[str]
    service: str | None  # aws:PrincipalServiceName, lower-cased


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """A parsed Principal / NotPrincipal element."""

    anyone: bool = False
    arns: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()  # lower-cased
    federated: frozenset[str] = frozenset()
    canonical: frozenset[str] = frozenset()

    def _covers(self, ident: str) -> bool:
        return (
            ident in self.arns
            or ident in self.federated
            or ident in self.canonical
            or (bool(self.services) and ident.lower() in self.services)
        )

    def grant(self, caller: Caller) -> Grant | None:
        """The strongest way this Principal element names ``caller``, if at all."""
        if self.anyone or self._covers(caller.arn):
            return Grant.DIRECT
        if caller.service is not None and caller.service in self.services:
            return Grant.DIRECT
        for p in caller.parents:
            if p in self.federated or p in self.canonical:
                return Grant.DIRECT
        for p in caller.parents:
            if p in self.arns or (self.services and p.lower() in self.services):
                return Grant.PARENT
        if not self.accounts.isdisjoint(caller.accounts):
            return Grant.ACCOUNT
        return None

    def not_principal_applies(self, caller: Caller) -> bool:
        """NotPrincipal: the statement applies unless every identity of the caller is listed.

        AWS evaluates a request as the account, then the role/user, then the
        session (IAM User Guide, "NotPrincipal"); if any of them is not named,
        the statement applies. That is why the docs ask to list the account
        root and the role ARN next to a session ARN.
        """
        if self.anyone:
            return False
        named_service = caller.service is not None and caller.service in self.services
        if not self._covers(caller.arn) and not named_service:
            return True
        if any(not self._covers(p) for p in caller.parents):
            return True
        return any(a not in self.accounts for a in caller.accounts)
