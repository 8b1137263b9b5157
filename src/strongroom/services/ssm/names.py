"""Parameter names, ARNs, selectors and labels (Systems Manager User Guide,
"Requirements and constraints for parameter names" and "Working with
parameter labels").

A name is ``[a-zA-Z0-9_.-]`` segments; a hierarchical name starts with ``/``
and separates at most 15 levels with single slashes. ``aws`` and ``ssm``
prefixes (case-insensitive) are reserved. The limit on length counts the
whole ARN, so it depends on the Region and account. A request may name a
parameter by its ARN (needed for parameters shared from another account)
and may add ``:version`` or ``:label`` to pick a version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from strongroom.services.ssm import errors

MAX_ARN_LENGTH = 1011
MAX_LEVELS = 15

_NAME_CHARS = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:([a-z0-9-]+):([0-9]{12}):parameter(/.+)$")
_LABEL = re.compile(r"^[a-zA-Z0-9_.\-]{1,100}$")
_RESERVED = ("aws", "ssm")


def parameter_arn(region: str, account: str, name: str) -> str:
    """AWS writes ``parameter/name`` for ``name`` and for ``/name`` alike."""
    slash = "" if name.startswith("/") else "/"
    return f"arn:aws:ssm:{region}:{account}:parameter{slash}{name}"


def is_reserved(name: str) -> bool:
    return name.lstrip("/").lower().startswith(_RESERVED)


def check_name(name: str, region: str, account: str, *, for_write: bool) -> None:
    """Raise the AWS error for a malformed name.

    Reads tolerate the reserved prefixes (``/aws/service/…`` public
    parameters are simply not found here); writes refuse them.
    """
    if not _NAME_CHARS.match(name):
        raise errors.invalid_name()
    if "/" in name:
        if not name.startswith("/"):
            raise errors.validation("Parameter name must be a fully qualified name.")
        if "//" in name or name.endswith("/"):
            raise errors.invalid_name()
        if name.count("/") > MAX_LEVELS:
            raise errors.hierarchy_level(name)
    if for_write and is_reserved(name):
        raise errors.invalid_name()
    if len(parameter_arn(region, account, name)) > MAX_ARN_LENGTH:
        raise errors.validation(
            "Parameter name is too long: the name and its ARN prefix "
            f"(arn:aws:ssm:{region}:{account}:parameter/) can have at most "
            f"{MAX_ARN_LENGTH} characters."
        )


@dataclass(frozen=True, slots=True)
class ParamRef:
    """What a ``Name`` member designates."""

    account: str
    region: str
    name: str  # without selector; for an ARN, the path after "parameter"
    version: int | None = None
    label: str | None = None
    by_arn: bool = False
    requested: str = ""  # the Name as given, without the selector

    @property
    def selector(self) -> str | None:
        if self.version is not None:
            return f":{self.version}"
        if self.label is not None:
            return f":{self.label}"
        return None

    def candidates(self) -> tuple[str, ...]:
        """Names an ARN can stand for: ``parameter/x`` is both ``/x`` and ``x``."""
        if self.by_arn and self.name.count("/") == 1:
            return (self.name, self.name[1:])
        return (self.name,)


def _split_selector(text: str) -> tuple[str, str | None]:
    base, sep, selector = text.partition(":")
    if not sep:
        return text, None
    if not selector or ":" in selector:
        raise errors.validation(
            f"Invalid parameter name or selector: {text}. Use name, name:version or name:label."
        )
    return base, selector


def parse_ref(value: str, account: str, region: str, *, allow_selector: bool = True) -> ParamRef:
    """Parse a ``Name`` (plain or ARN, with an optional selector)."""
    by_arn = value.startswith("arn:")
    if by_arn:
        prefix, sep, resource = value.rpartition(":parameter/")
        if not sep:
            raise errors.validation(f"Invalid parameter ARN: {value}")
        base, selector = _split_selector("/" + resource)
        match = _ARN.match(f"{prefix}:parameter{base}")
        if match is None:
            raise errors.validation(f"Invalid parameter ARN: {value}")
        arn_region, owner, name = match.groups()
        if arn_region != region:
            raise errors.validation(
                f"The parameter ARN {value} is in Region {arn_region}, not in {region}."
            )
        check_name(name, region, owner, for_write=False)
        requested = f"{prefix}:parameter{base}"
    else:
        name, selector = _split_selector(value)
        owner = account
        check_name(name, region, account, for_write=False)
        requested = name
    if selector is None:
        return ParamRef(owner, region, name, by_arn=by_arn, requested=requested)
    if not allow_selector:
        raise errors.invalid_name()
    if selector.isdigit():
        version = int(selector)
        if version < 1:
            raise errors.validation(f"Invalid parameter version {selector}.")
        return ParamRef(owner, region, name, version=version, by_arn=by_arn, requested=requested)
    return ParamRef(owner, region, name, label=selector, by_arn=by_arn, requested=requested)


def valid_label(label: str) -> bool:
    """Labels: 1-100 of ``[a-zA-Z0-9_.-]``, not starting with a digit, ``aws`` or ``ssm``."""
    if not _LABEL.match(label) or label[0].isdigit():
        return False
    return not label.lower().startswith(_RESERVED)


def check_path(path: str) -> str:
    """A GetParametersByPath path: ``/`` or ``/a/b`` (a trailing slash is tolerated).

    Returns the scan prefix: the path with exactly one trailing slash.
    """
    if not path.startswith("/") or not _NAME_CHARS.match(path) or "//" in path:
        raise errors.invalid_path()
    stripped = path.rstrip("/")
    if stripped.count("/") > MAX_LEVELS:
        raise errors.hierarchy_level(path)
    return stripped + "/"
