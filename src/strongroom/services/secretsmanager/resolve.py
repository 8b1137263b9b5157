"""What a ``SecretId`` names: a name, a full ARN or a partial ARN.

AWS accepts the secret's name, its full ARN (name plus the six random
characters) or a partial ARN (the ARN without them). A partial ARN is
ambiguous when the name itself ends in ``-`` and six characters, which is
why AWS advises against such names; we try the full-ARN reading first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from strongroom.services.secretsmanager import errors

# ASCII letters, digits and /_+=.@- (the CreateSecret Name rules).
NAME_RE = re.compile(r"[A-Za-z0-9/_+=.@-]+")  # fullmatch: "$" would admit a trailing newline
MAX_NAME = 512
_SUFFIX_RE = re.compile(r"^(?P<name>.+)-(?P<suffix>[A-Za-z0-9]{6})$")


# Not frozen, though nothing changes it: every Secrets Manager request
# builds one, and a frozen dataclass costs several times as much to build.
@dataclass(slots=True)
class SecretRef:
    account: str
    region: str
    # Names to try, in order, each with the ARN suffix it must have (None: any).
    candidates: tuple[tuple[str, str | None], ...]
    given: str

    @property
    def name(self) -> str:
        """The name a not-found answer and an authorization of a missing secret use."""
        return self.candidates[-1][0]


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise errors.invalid_parameter("You must provide a name for the secret.")
    if len(name) > MAX_NAME or not NAME_RE.fullmatch(name):
        raise errors.invalid_parameter(
            "Invalid name. Must be a valid name containing alphanumeric characters, "
            "or any of the following: -/_+=.@!"
        )
    return name


def parse_secret_id(value: object, account: str, region: str) -> SecretRef:
    if not isinstance(value, str) or not value:
        raise errors.invalid_parameter("You must provide a SecretId.")
    if not value.startswith("arn:"):
        return SecretRef(account, region, ((value, None),), value)
    parts = value.split(":", 6)
    if (
        len(parts) != 7
        or parts[2] != "secretsmanager"
        or parts[5] != "secret"
        or not parts[6]
        or not (len(parts[4]) == 12 and parts[4].isdigit())
    ):
        raise errors.invalid_parameter(f"Invalid SecretId ARN: {value}")
    if parts[3] != region:
        # A secret lives in one region; another region's ARN names nothing here.
        raise errors.not_found()
    rest = parts[6]
    candidates: list[tuple[str, str | None]] = []
    match = _SUFFIX_RE.match(rest)
    if match is not None:
        candidates.append((match["name"], match["suffix"]))
    candidates.append((rest, None))
    return SecretRef(parts[4], region, tuple(candidates), value)
