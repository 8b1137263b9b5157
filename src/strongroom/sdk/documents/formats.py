"""Reading and writing the three structured formats of values-only mode.

YAML and JSON become the tree ``yaml.safe_load`` / ``json.loads`` give (YAML comments
are not kept; key order is). A .env file keeps its exact layout: comments, blank lines,
``export`` prefixes and the raw text of every value (quotes included) survive a round
trip; only the values are replaced. In a .env file the metadata is one line,
``_strongroom={...compact JSON...}``. Errors name a line or a path, never a value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from strongroom.sdk.documents.codec import META_KEY
from strongroom.sdk.errors import DocumentFormatError

FORMATS = ("yaml", "json", "env")
_ENV_LINE = re.compile(
    r"\A(?P<prefix>\s*(?:export\s+)?)(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)=(?P<value>.*)\Z"
)


def detect_format(name: str, explicit: str | None = None) -> str:
    """The format from ``--format`` or the file name (.yaml/.yml, .json, .env / .env.*)."""
    if explicit:
        if explicit not in FORMATS:
            raise DocumentFormatError(f"unknown format {explicit!r}")
        return explicit
    base = PurePath(name).name.lower()
    for suffix in reversed(PurePath(base).suffixes):
        if suffix in (".yaml", ".yml"):
            return "yaml"
        if suffix == ".json":
            return "json"
        if suffix == ".env":
            return "env"
    if base == ".env" or base.startswith(".env.") or base.endswith(".env"):
        return "env"
    raise DocumentFormatError(f"cannot tell the format of {name!r}: use --format yaml|json|env")


@dataclass
class Document:
    """A parsed structured file: the tree plus, for .env, the layout to write it back."""

    format: str
    tree: dict[str, Any]
    env_layout: list[tuple[str, str]] = field(default_factory=list)  # (prefix, key) or ("#", raw)
    trailing_newline: bool = True


def load(text: str, fmt: str) -> Document:
    if fmt == "json":
        try:
            tree = json.loads(text)
        except json.JSONDecodeError as exc:  # the position, not the text around it
            raise DocumentFormatError(
                f"invalid JSON at line {exc.lineno}, column {exc.colno}"
            ) from None
        return Document(fmt, _mapping(tree))
    if fmt == "yaml":
        import yaml

        try:
            tree = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise DocumentFormatError(f"invalid YAML{where}") from None
        return Document(fmt, _mapping({} if tree is None else tree))
    if fmt == "env":
        return _load_env(text)
    raise DocumentFormatError(f"unknown format {fmt!r}")


def _mapping(tree: Any) -> dict[str, Any]:
    if not isinstance(tree, dict):
        raise DocumentFormatError("the top level of the document must be a mapping")
    return tree


def _load_env(text: str) -> Document:
    tree: dict[str, Any] = {}
    layout: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            layout.append(("#", line))
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            raise DocumentFormatError(f"line {number}: expected KEY=VALUE")
        key = match["key"]
        if key in tree:
            raise DocumentFormatError(f"line {number}: duplicate key {key}")
        value: Any = match["value"]
        if key == META_KEY:
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise DocumentFormatError(f"line {number}: metadata is not valid JSON") from None
        tree[key] = value
        layout.append((match["prefix"], key))
    return Document("env", tree, layout, text.endswith(("\n", "\r")) or not text)


def dump(document: Document, tree: dict[str, Any]) -> str:
    """Write ``tree`` in the document's format (and, for .env, its layout)."""
    if document.format == "json":
        return json.dumps(tree, indent=2, ensure_ascii=False) + "\n"
    if document.format == "yaml":
        import yaml

        text: str = yaml.safe_dump(
            tree, sort_keys=False, allow_unicode=True, default_flow_style=False, width=2**31 - 1
        )
        return text
    lines: list[str] = []
    seen: set[str] = set()
    for prefix, item in document.env_layout:
        if prefix == "#":
            lines.append(item)
        elif item in tree:
            lines.append(f"{prefix}{item}={_env_text(item, tree[item])}")
            seen.add(item)
    lines += [f"{k}={_env_text(k, v)}" for k, v in tree.items() if k not in seen]
    return "\n".join(lines) + ("\n" if document.trailing_newline and lines else "")


def _env_text(key: str, value: Any) -> str:
    if key == META_KEY:
        return json.dumps(value, separators=(",", ":"), sort_keys=False)
    if not isinstance(value, str) or "\n" in value or "\r" in value:
        raise DocumentFormatError(f"/{key}: a .env value must be a single-line string")
    return value


def env_value(raw: str) -> str:
    """The value a process sees for a raw .env value: surrounding matching quotes removed
    (no escape processing, as docker --env-file and most dotenv readers do)."""
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    return raw
