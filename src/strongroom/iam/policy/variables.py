"""Policy variables and the case-insensitive view of a request context.

A policy string (a Resource ARN, a condition value) is parsed once into
tokens: literal text, the ``*``/``?`` wildcards and ``${key}`` variables.
Matching code turns tokens into regular expressions; variables are filled
in per request from the same request context that conditions read.

AWS facts (IAM User Guide, "IAM policy elements: Variables and tags"):

* variables exist only in Version ``2012-10-17``; in older documents
  ``${aws:username}`` is a literal string;
* ``${*}``, ``${?}`` and ``${$}`` stand for a literal ``*``, ``?`` and ``$``
  (so they never act as wildcards);
* ``${key, 'default'}`` gives a value for a key missing from the request;
* a variable that cannot be resolved "might cause the entire statement to be
  invalid": we make such a statement not apply (raising :class:`Unresolved`,
  caught per statement by the evaluator);
* key names are case-insensitive (``aws:CurrentTime`` == ``AWS:currenttime``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

ContextValue: TypeAlias = str | Sequence[str] | bool | int | None


class Unresolved(Exception):
    """A policy variable has no value in the request and no default."""


@dataclass(frozen=True, slots=True)
class Var:
    key: str  # lower-cased context key
    default: str | None


@dataclass(frozen=True, slots=True)
class Wild:
    char: str  # "*" or "?"


STAR: Final = Wild("*")
QMARK: Final = Wild("?")

Token: TypeAlias = str | Var | Wild

# inside "${...}": a key, optionally ", 'default'"
_VAR_BODY = re.compile(r"\s*([^\s,'{}$]+)\s*(?:,\s*'([^']*)'\s*)?")
_ESCAPES: Final = frozenset({"*", "?", "$"})


def parse_template(text: str, *, variables: bool, wildcards: bool) -> tuple[Token, ...]:
    """Split ``text`` into literal runs, wildcards and variables.

    Adjacent literal characters are merged so the common case (no wildcard,
    no variable) is a one-element tuple holding the original string.
    """
    tokens: list[Token] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            tokens.append("".join(buf))
            buf.clear()

    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if variables and ch == "$" and text.startswith("${", i):
            end = text.find("}", i + 2)
            if end != -1:
                inner = text[i + 2 : end]
                if inner in _ESCAPES:
                    buf.append(inner)  # ${*} is a literal "*", never a wildcard
                    i = end + 1
                    continue
                m = _VAR_BODY.fullmatch(inner)
                if m is not None:
                    flush()
                    tokens.append(Var(m.group(1).lower(), m.group(2)))
                    i = end + 1
                    continue
            # not a well-formed variable: AWS keeps the text as it is
        if wildcards and ch in "*?":
            flush()
            tokens.append(STAR if ch == "*" else QMARK)
        else:
            buf.append(ch)
        i += 1
    flush()
    return tuple(tokens)


def has_variables(tokens: Sequence[Token]) -> bool:
    return any(isinstance(t, Var) for t in tokens)


def template_keys(tokens: Sequence[Token]) -> set[str]:
    return {t.key for t in tokens if isinstance(t, Var)}


def as_values(value: ContextValue) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, bool):  # before int: bool is an int subclass
        return ("true" if value else "false",)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, int):
        return (str(value),)
    return tuple(_scalar(v) for v in value)


def _scalar(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class ContextView:
    """Case-insensitive, normalized read access to a request context.

    Built lazily and per key: most statements have no condition and no
    variable, and a condition reads a few keys of a context of twenty, so only
    the key index is built up front and a value is normalized when first read.
    """

    __slots__ = ("_index", "_raw", "_seen")

    def __init__(self, raw: Mapping[str, ContextValue]) -> None:
        self._raw = raw
        self._index: dict[str, ContextValue] | None = None
        self._seen: dict[str, tuple[str, ...] | None] = {}

    def get(self, key: str) -> tuple[str, ...] | None:
        """Values of ``key`` (already lower-case): None when absent, () when empty."""
        try:
            return self._seen[key]
        except KeyError:
            pass
        if self._index is None:
            self._index = {k.lower(): v for k, v in self._raw.items()}
        vals = as_values(self._index.get(key))
        self._seen[key] = vals
        return vals

    def resolve(self, var: Var) -> str:
        """The single value a variable stands for (multivalued keys cannot be variables)."""
        values = self.get(var.key)
        if values is not None and len(values) == 1:
            return values[0]
        if var.default is not None:
            return var.default
        raise Unresolved(var.key)

    def substitute(self, tokens: Sequence[Token]) -> str:
        """Literal text of a wildcard-free template with variables filled in."""
        return "".join(t if isinstance(t, str) else self._fill(t) for t in tokens)

    def _fill(self, t: Var | Wild) -> str:
        return self.resolve(t) if isinstance(t, Var) else t.char
