"""GetRandomPassword: AWS's options over the ``secrets`` CSPRNG."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from typing import Any

from strongroom.services.secretsmanager import errors

DEFAULT_LENGTH = 32
MAX_LENGTH = 4096
# The punctuation set AWS documents for ExcludePunctuation.
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_RANDOM = secrets.SystemRandom()


def _flag(params: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = params.get(name)
    return default if value is None else bool(value)


def generate(params: Mapping[str, Any]) -> str:
    length = params.get("PasswordLength")
    length = DEFAULT_LENGTH if length is None else length
    if not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= MAX_LENGTH:
        raise errors.invalid_parameter(
            f"PasswordLength must be between 1 and {MAX_LENGTH} (inclusive)."
        )
    exclude = params.get("ExcludeCharacters") or ""
    if not isinstance(exclude, str):
        raise errors.invalid_parameter("ExcludeCharacters must be a string.")
    excluded = set(exclude)

    groups: list[str] = []
    if not _flag(params, "ExcludeLowercase"):
        groups.append(string.ascii_lowercase)
    if not _flag(params, "ExcludeUppercase"):
        groups.append(string.ascii_uppercase)
    if not _flag(params, "ExcludeNumbers"):
        groups.append(string.digits)
    if not _flag(params, "ExcludePunctuation"):
        groups.append(PUNCTUATION)
    groups = ["".join(c for c in group if c not in excluded) for group in groups]
    groups = [g for g in groups if g]
    space = " " if _flag(params, "IncludeSpace") and " " not in excluded else ""
    alphabet = "".join(groups) + space
    if not alphabet:
        raise errors.invalid_parameter(
            "You excluded every character type: there are no characters left to choose from."
        )

    chosen: list[str] = []
    if _flag(params, "RequireEachIncludedType", default=True):
        if length < len(groups):
            raise errors.invalid_parameter(
                "Password length is too short based on the required types."
            )
        # One from each included type, then the rest from the whole alphabet,
        # shuffled so the required characters have no fixed positions.
        chosen = [secrets.choice(group) for group in groups]
    chosen += [secrets.choice(alphabet) for _ in range(length - len(chosen))]
    _RANDOM.shuffle(chosen)
    return "".join(chosen)
