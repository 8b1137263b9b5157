"""AWS Query (IAM, STS): form parameters in, XML out.

Requests flatten the input structure into dotted keys::

    Tags.member.1.Key=a           list (Name.N when the list is flattened)
    Attributes.entry.1.key=k      map  (entry.N.key / entry.N.value)
    Policy.Statement=x            nested structure

Parsing first folds the keys into a tree on the dots, then walks the tree
with one converter per shape (built once, memoized by shape name). A value
of the wrong type (``MaxItems=abc``) is ``MalformedInput``, which is what
the Query services answer for input they cannot deserialize; constraint
violations are ``ValidationError`` from :mod:`strongroom.protocol.validate`.

Responses and errors are built in :mod:`strongroom.protocol.query_xml`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import Shape, StructureShape

from strongroom.errors import ServiceError
from strongroom.protocol import codec
from strongroom.protocol.models import ServiceSpec
from strongroom.protocol.query_xml import (
    prepare_xml,
    serialize_query_error,
    serialize_query_response,
)
from strongroom.protocol.validate import validate_input

__all__ = ["parse_query_request", "serialize_query_error", "serialize_query_response"]

# (tree node) -> Python value; raises _Malformed naming the offending key suffix.
Converter = Callable[[Any], Any]

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_MAX_INDEX_DIGITS = 9  # list/map positions beyond this are not real requests

_inputs: dict[tuple[str, str], Converter | None] = {}
_builders: dict[str, _Builder] = {}


class _Malformed(Exception):
    """A parameter whose value does not fit its shape; carries the key path."""

    def __init__(self, path: str, expected: str) -> None:
        super().__init__(path)
        self.path = path
        self.expected = expected

    def under(self, prefix: str) -> _Malformed:
        self.path = f"{prefix}.{self.path}" if self.path else prefix
        return self


def parse_query_request(
    spec: ServiceSpec, operation: str, params: Mapping[str, list[str]] | Mapping[str, str]
) -> dict[str, Any]:
    """Fold, convert and validate the form parameters of one Query request.

    ``params`` maps each key to its values (as ``parse_qs`` gives) or to one
    string; of repeated keys the first value counts.
    """
    key = (spec.name, operation)
    try:
        converter = _inputs[key]
    except KeyError:
        converter = _inputs[key] = _build_input(spec, operation)
    if converter is None:
        result: dict[str, Any] = {}
    else:
        try:
            result = converter(_fold(params))
        except _Malformed as exc:
            raise ServiceError(
                "MalformedInput",
                f"Invalid value for parameter {exc.path or '(request)'}: expected {exc.expected}",
                400,
            ) from None
        except RecursionError:
            raise ServiceError("MalformedInput", "The request is nested too deeply", 400) from None
    validate_input(spec, operation, result)
    return result


def prepare_query(spec: ServiceSpec, operation: str) -> None:
    """Build the operation's form converter and XML writer ahead of traffic."""
    key = (spec.name, operation)
    if key not in _inputs:
        _inputs[key] = _build_input(spec, operation)
    prepare_xml(spec, operation)


def _fold(params: Mapping[str, Any]) -> dict[str, Any]:
    """``{"A.B.1": v}`` -> ``{"A": {"B": {"1": v}}}``.

    A key that is both a value and a prefix (``Tags=`` next to
    ``Tags.member.1=x``) keeps its value under the empty key.
    """
    tree: dict[str, Any] = {}
    for key, raw in params.items():
        if isinstance(raw, str):
            value = raw
        elif raw:
            value = raw[0]
        else:
            continue
        if "." not in key:
            existing = tree.get(key)
            if type(existing) is dict:
                existing.setdefault("", value)
            elif existing is None:
                tree[key] = value
            continue
        parts = key.split(".")
        node = tree
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif type(child) is not dict:
                child = node[part] = {"": child}
            node = child
        last = parts[-1]
        existing = node.get(last)
        if type(existing) is dict:
            existing.setdefault("", value)
        elif existing is None:
            node[last] = value
    return tree


def _build_input(spec: ServiceSpec, operation: str) -> Converter | None:
    op = spec.operation(operation)
    if op is None:
        raise ServiceError(
            "InvalidAction",
            f"Could not find operation {operation} for version {spec.api_version}",
            400,
        )
    if op.input_shape is None:
        return None
    builder = _builders.get(spec.name)
    if builder is None:
        builder = _builders[spec.name] = _Builder()
    return builder.build(op.input_shape)


def _scalar(node: Any, expected: str) -> str:
    """The string at a leaf; a subtree where a scalar belongs is malformed."""
    if type(node) is str:
        return node
    raise _Malformed("", expected)


def _string_in(node: Any) -> str:
    return _scalar(node, "a string")


def _integer_in(bounds: tuple[int, int]) -> Converter:
    low, high = bounds

    def convert(node: Any) -> int:
        text = _scalar(node, "an integer")
        body = text[1:] if text[:1] in "+-" else text
        if not body.isdigit() or not body.isascii() or len(body) > 19:
            raise _Malformed("", "an integer")
        number = int(text)
        if not low <= number <= high:
            raise _Malformed("", "an integer")
        return number

    return convert


def _real_in(node: Any) -> float:
    text = _scalar(node, "a number")
    try:
        number = float(text)
    except ValueError:
        raise _Malformed("", "a number") from None
    if not math.isfinite(number) or "_" in text or text != text.strip():
        raise _Malformed("", "a number")
    return number


def _boolean_in(node: Any) -> bool:
    text = _scalar(node, "true or false").lower()
    if text == "true":
        return True
    if text == "false":
        return False
    raise _Malformed("", "true or false")


def _blob_in(node: Any) -> bytes:
    try:
        return codec.b64decode(_scalar(node, "base64"))
    except ValueError:
        raise _Malformed("", "base64") from None


def _timestamp_in(node: Any) -> Any:
    try:
        return codec.parse_timestamp(_scalar(node, "an ISO 8601 timestamp"))
    except ValueError:
        raise _Malformed("", "an ISO 8601 timestamp") from None


_SCALAR_IN: dict[str, Converter] = {
    "string": _string_in,
    "integer": _integer_in(_INT32),
    "long": _integer_in(_INT64),
    "float": _real_in,
    "double": _real_in,
    "boolean": _boolean_in,
    "blob": _blob_in,
    "timestamp": _timestamp_in,
}


def _container(node: Any, expected: str) -> dict[str, Any] | None:
    """The subtree of a list/map/structure; ``Name=`` (empty) means empty."""
    if type(node) is dict:
        return node
    if node == "":
        return None
    raise _Malformed("", expected)


def _positions(node: dict[str, Any]) -> list[tuple[int, Any]]:
    """Entries of ``{"1": a, "2": b}`` in numeric order (1-based indexes on the wire)."""
    found: list[tuple[int, Any]] = []
    for index, item in node.items():
        if index.isdigit() and index.isascii() and len(index) <= _MAX_INDEX_DIGITS:
            found.append((int(index), item))
        elif index:
            raise _Malformed(index, "a 1-based position")
    found.sort(key=lambda pair: pair[0])
    return found


def _serialized_name(shape: Shape, default: str) -> str:
    name = shape.serialization.get("name")
    return str(name) if name else default


class _Builder:
    """Query request converters for one service (memoized; models may recurse)."""

    def __init__(self) -> None:
        self._memo: dict[str, Converter] = {}

    def build(self, shape: Shape) -> Converter:
        found = self._memo.get(shape.name)
        if found is not None:
            return found
        kind = shape.type_name
        scalar = _SCALAR_IN.get(kind)
        if scalar is not None:
            return scalar
        if kind == "list":
            return self._list(shape)
        if kind == "map":
            return self._map(shape)
        if isinstance(shape, StructureShape):
            return self._structure(shape)
        return _string_in  # pragma: no cover - no other shape types in Query models

    def _structure(self, shape: StructureShape) -> Converter:
        # wire name -> (member name, converter)
        by_wire: dict[str, tuple[str, Converter]] = {}

        def convert(node: Any) -> dict[str, Any]:
            tree = _container(node, "a structure")
            out: dict[str, Any] = {}
            if tree is None:
                return out
            for wire, item in tree.items():
                member = by_wire.get(wire)
                if member is None:
                    continue  # Action, Version, auth parameters, unknown members
                try:
                    out[member[0]] = member[1](item)
                except _Malformed as exc:
                    raise exc.under(wire) from None
            return out

        self._memo[shape.name] = convert
        for name, member_shape in shape.members.items():
            wire = _serialized_name(member_shape, name)
            if member_shape.type_name == "list" and member_shape.serialization.get("flattened"):
                wire = _serialized_name(member_shape.member, wire)
            by_wire[wire] = (name, self.build(member_shape))
        return convert

    def _list(self, shape: Shape) -> Converter:
        flattened = bool(shape.serialization.get("flattened"))
        member_name = _serialized_name(shape.member, "member")
        cell: list[Converter] = [_string_in]

        def convert(node: Any) -> list[Any]:
            tree = _container(node, "a list")
            if tree is None:
                return []
            if not flattened:
                inner = tree.get(member_name)
                if inner is None:
                    return []
                if type(inner) is not dict:
                    raise _Malformed(member_name, "a list")
                tree = inner
            item = cell[0]
            out: list[Any] = []
            try:
                entries = _positions(tree)
            except _Malformed as exc:
                raise (exc if flattened else exc.under(member_name)) from None
            for index, value in entries:
                try:
                    out.append(item(value))
                except _Malformed as exc:
                    raise exc.under(str(index) if flattened else f"{member_name}.{index}") from None
            return out

        self._memo[shape.name] = convert
        cell[0] = self.build(shape.member)
        return convert

    def _map(self, shape: Shape) -> Converter:
        flattened = bool(shape.serialization.get("flattened"))
        key_shape: Shape = shape.key
        value_shape: Shape = shape.value
        key_name = _serialized_name(key_shape, "key")
        value_name = _serialized_name(value_shape, "value")
        key_convert: Converter = _SCALAR_IN.get(key_shape.type_name, _string_in)
        cell: list[Converter] = [_string_in]

        def convert(node: Any) -> dict[Any, Any]:
            tree = _container(node, "a map")
            if tree is None:
                return {}
            if not flattened:
                inner = tree.get("entry")
                if inner is None:
                    return {}
                if type(inner) is not dict:
                    raise _Malformed("entry", "a map")
                tree = inner
            item = cell[0]
            out: dict[Any, Any] = {}
            try:
                entries = _positions(tree)
            except _Malformed as exc:
                raise (exc if flattened else exc.under("entry")) from None
            for index, entry in entries:
                where = str(index) if flattened else f"entry.{index}"
                if type(entry) is not dict or key_name not in entry:
                    raise _Malformed(where, "a map entry with a key")
                try:
                    key = key_convert(entry[key_name])
                    raw_value = entry.get(value_name)
                    out[key] = item(raw_value) if raw_value is not None else None
                except _Malformed as exc:
                    raise exc.under(where) from None
            return {k: v for k, v in out.items() if v is not None}

        self._memo[shape.name] = convert
        cell[0] = self.build(value_shape)
        return convert
