"""The document tree of values-only mode: paths, traversal order, scalar encoding and the
``ENC[esdk,...]`` marker.

A document is what ``json.loads`` / ``yaml.safe_load`` return (dicts with string keys,
lists, and scalars) or the flat string map of a .env file. Every leaf has a path in
RFC 6901 JSON Pointer syntax (``/db/hosts/0``), which is unambiguous (``~`` and ``/`` in
keys are escaped) and is what binds each encrypted value to its place.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from typing import Any

from strongroom.sdk.errors import DocumentError, DocumentFormatError

# The type tag travels in the marker (readable) and in the value's encryption context
# (authenticated); they must agree on decrypt.
SCALAR_TYPES = ("str", "int", "float", "bool", "null")

_MARKER = re.compile(r"\AENC\[esdk,type:(?P<type>[a-z]+),data:(?P<data>[A-Za-z0-9+/]+={0,2})\]\Z")
MARKER_PREFIX = "ENC[esdk,"


def escape(key: str) -> str:
    """RFC 6901 reference token: '~' -> '~0', '/' -> '~1'."""
    return key.replace("~", "~0").replace("/", "~1")


def child_path(parent: str, key: str | int) -> str:
    return f"{parent}/{escape(key) if isinstance(key, str) else key}"


def walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, kind, node) in document order; kind is 'map', 'list' or 'leaf'.

    Document order is part of what the MAC covers, so reordering keys is detected."""
    if isinstance(node, dict):
        yield path, "map", node
        for key, value in node.items():
            if not isinstance(key, str):
                raise DocumentFormatError(f"{path or '/'}: keys must be strings")
            yield from walk(value, child_path(path, key))
    elif isinstance(node, list):
        yield path, "list", node
        for index, value in enumerate(node):
            yield from walk(value, child_path(path, index))
    else:
        yield path, "leaf", node


def map_leaves(node: Any, fn: Callable[[str, Any], Any], path: str = "") -> Any:
    """A copy of the tree with every leaf replaced by ``fn(path, leaf)``, order preserved."""
    if isinstance(node, dict):
        return {k: map_leaves(v, fn, child_path(path, k)) for k, v in node.items()}
    if isinstance(node, list):
        return [map_leaves(v, fn, child_path(path, i)) for i, v in enumerate(node)]
    return fn(path, node)


def scalar_type(path: str, value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    raise DocumentFormatError(
        f"{path or '/'}: unsupported value type {type(value).__name__} "
        "(values-only mode handles strings, numbers, booleans and null)"
    )


def encode_scalar(value: Any, type_: str) -> bytes:
    """The plaintext of one value: its text form, from which ``decode_scalar`` restores it."""
    if type_ == "str":
        return str(value).encode("utf-8")
    if type_ == "bool":
        return b"true" if value else b"false"
    if type_ == "int":
        return str(int(value)).encode("ascii")
    if type_ == "float":
        return repr(float(value)).encode("ascii")  # repr round-trips exactly (incl. inf/nan)
    return b""


def decode_scalar(path: str, type_: str, data: bytes) -> Any:
    try:
        if type_ == "str":
            return data.decode("utf-8")
        if type_ == "bool" and data in (b"true", b"false"):
            return data == b"true"
        if type_ == "int":
            return int(data.decode("ascii"))
        if type_ == "float":
            return float(data.decode("ascii"))
        if type_ == "null" and not data:
            return None
    except (UnicodeDecodeError, ValueError):
        pass
    raise DocumentError(f"{path or '/'}: decrypted value is not a valid {type_}")


def format_marker(type_: str, message: bytes) -> str:
    return f"ENC[esdk,type:{type_},data:{base64.b64encode(message).decode('ascii')}]"


def parse_marker(path: str, value: Any) -> tuple[str, bytes] | None:
    """(type, ESDK message) of a marker; None if ``value`` is not a marker at all."""
    if not isinstance(value, str) or not value.startswith(MARKER_PREFIX):
        return None
    match = _MARKER.match(value)
    if match is None or match["type"] not in SCALAR_TYPES:
        raise DocumentError(f"{path or '/'}: malformed ENC[esdk,...] value")
    try:
        return match["type"], base64.b64decode(match["data"], validate=True)
    except binascii.Error:
        raise DocumentError(f"{path or '/'}: malformed base64 in ENC[esdk,...] value") from None
