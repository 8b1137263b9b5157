"""Field readers for seed files: typed values out of :class:`YNode` s, with
every problem recorded as ``FILE:LINE: PATH: message``.

Kept apart from :mod:`seed_schema` (which knows what a key and an alias
are) so that each stays small: this module knows how to read one field.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import re

from strongroom.errors import ServiceError
from strongroom.services.kms.common import MAX_TAGS
from strongroom.services.kms.policies import validate_policy
from strongroom.services.kms.resolve import ALIAS_NAME
from strongroom.services.kms.seed_yaml import YNode

_ACCOUNT = re.compile(r"^[0-9]{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
MATERIAL_FIELDS = ("hex", "base64", "pem")


class SeedError(ValueError):
    """The seed file is invalid, or conflicts with what the store holds."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _normal(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


class Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self._found: list[tuple[int, int, str]] = []

    @property
    def problems(self) -> list[str]:
        """Every problem so far, in file order."""
        return [text for _, _, text in sorted(self._found)]

    def fail(self, line: int, path: str, message: str) -> None:
        self._found.append((line, len(self._found), f"{self.source}:{line}: {path}: {message}"))

    def fields(self, node: YNode, path: str, allowed: tuple[str, ...]) -> dict[str, YNode]:
        if node.kind != "map":
            self.fail(node.line, path, f"expected a mapping, got {node.describe}")
            return {}
        known: dict[str, YNode] = {}
        for name, value in node.items.items():
            if name in allowed:
                known[name] = value
                continue
            hint = [a for a in allowed if _normal(a) == _normal(name)]
            hint = hint or difflib.get_close_matches(name, allowed, n=1)
            hint = hint or [a for a in allowed if len(name) >= 3 and a.startswith(name.lower())]
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            self.fail(
                node.key_lines[name],
                f"{path}.{name}" if path else name,
                f"unknown field{suggestion}; allowed: {', '.join(allowed)}",
            )
        return known

    def text(self, node: YNode, path: str, *, max_len: int | None = None) -> str | None:
        """A string field. Source text is used, so ``yes`` stays "yes" and
        ``000000000000`` keeps its zeros; null and collections are refused."""
        if node.kind != "scalar" or node.type == "null":
            self.fail(node.line, path, f"expected a string, got {node.describe}")
            return None
        if max_len is not None and len(node.text) > max_len:
            self.fail(node.line, path, f"longer than {max_len} characters")
            return None
        return node.text

    def boolean(self, node: YNode, path: str) -> bool | None:
        value = node.as_bool()
        if value is None:
            self.fail(node.line, path, f"expected true or false, got {node.describe}")
        return value

    def choice(self, node: YNode, path: str, options: tuple[str, ...] | list[str]) -> str | None:
        value = self.text(node, path)
        if value is not None and value not in options:
            close = difflib.get_close_matches(value, options, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            self.fail(node.line, path, f"'{value}' is not one of {', '.join(options)}{hint}")
            return None
        return value

    def items(self, node: YNode, path: str) -> list[YNode]:
        if node.kind != "seq":
            self.fail(node.line, path, f"expected a list, got {node.describe}")
            return []
        return node.elements


def account(check: Checker, node: YNode, path: str) -> str | None:
    value = check.text(node, path)
    if value is not None and not _ACCOUNT.match(value):
        check.fail(node.line, path, f"'{value}' is not a 12-digit account id")
        return None
    return value


def region(check: Checker, node: YNode, path: str) -> str | None:
    value = check.text(node, path)
    if value is not None and not _REGION.match(value):
        check.fail(node.line, path, f"'{value}' is not a Region name such as us-east-1")
        return None
    return value


def decode(check: Checker, node: YNode, path: str) -> bytes | None:
    """One material entry: {hex: …}, {base64: …} or {pem: …} -> raw bytes."""
    f = check.fields(node, path, MATERIAL_FIELDS)
    if len(f) != 1:
        if node.kind == "map":
            check.fail(node.line, path, "give exactly one of hex, base64 or pem")
        return None
    kind, value_node = next(iter(f.items()))
    value = check.text(value_node, f"{path}.{kind}")
    if value is None:
        return None
    compact = "".join(value.split())
    try:
        if kind == "hex":
            return bytes.fromhex(compact)
        if kind == "base64":
            return base64.b64decode(compact, validate=True)
    except (ValueError, binascii.Error):
        check.fail(value_node.line, f"{path}.{kind}", f"not valid {kind}")
        return None
    match = _PEM.search(value)
    if match is None:
        check.fail(value_node.line, f"{path}.pem", "no -----BEGIN …----- block found")
        return None
    if match.group(1) != "PRIVATE KEY":
        check.fail(
            value_node.line,
            f"{path}.pem",
            f"a {match.group(1)} block: give an unencrypted PKCS#8 'PRIVATE KEY' "
            "(convert with: openssl pkcs8 -topk8 -nocrypt -in key.pem)",
        )
        return None
    try:
        return base64.b64decode("".join(match.group(2).split()), validate=True)
    except (ValueError, binascii.Error):
        check.fail(value_node.line, f"{path}.pem", "the PEM body is not valid base64")
        return None


def policy(check: Checker, node: YNode, path: str) -> str | None:
    if node.kind == "map":
        document = json.dumps(plain(node), indent=2)
    else:
        text = check.text(node, path)
        if text is None:
            return None
        document = text
    try:
        validate_policy(document)
    except ServiceError as exc:
        check.fail(node.line, path, f"not a valid key policy: {exc.message}")
        return None
    return document


def plain(node: YNode) -> object:
    """A policy mapping as JSON values. Policy values are strings in AWS's
    grammar, so scalars keep their source text ("2012-10-17", not a date)."""
    if node.kind == "map":
        return {k: plain(v) for k, v in node.items.items()}
    if node.kind == "seq":
        return [plain(v) for v in node.elements]
    if node.type == "boolean":
        return node.as_bool()
    return node.text


def tags(check: Checker, node: YNode, path: str) -> dict[str, str]:
    f = node.items if node.kind == "map" else {}
    if node.kind != "map":
        check.fail(
            node.line, path, f"expected a mapping of tag keys to values, got {node.describe}"
        )
    if len(f) > MAX_TAGS:
        check.fail(node.line, path, f"at most {MAX_TAGS} tags")
    out: dict[str, str] = {}
    for name, value_node in f.items():
        line = node.key_lines[name]
        if not 1 <= len(name) <= 128:
            check.fail(line, f"{path}.{name}", "tag keys are 1 to 128 characters")
        elif name.lower().startswith("aws:"):
            check.fail(line, f"{path}.{name}", "tag keys beginning with aws: are reserved")
        value = (
            ""
            if value_node.type == "null"
            else check.text(value_node, f"{path}.{name}", max_len=256)
        )
        if value is not None:
            out[name] = value
    return out


def alias_name(check: Checker, node: YNode, path: str) -> str | None:
    name = check.text(node, path)
    if name is None:
        return None
    if not name.startswith("alias/") or not ALIAS_NAME.match(name) or len(name) > 256:
        check.fail(node.line, path, f"'{name}' is not an alias name such as alias/my-app")
        return None
    if name.startswith("alias/aws/"):
        check.fail(node.line, path, "alias/aws/ names are reserved for AWS managed keys")
        return None
    return name
