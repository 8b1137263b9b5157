"""AWS JSON 1.0 / 1.1 request bodies: decode, type-check, convert, validate.

Each shape gets one converter closure, built once per service and memoized
by shape name, so a request costs one ``json.loads`` plus a walk over the
members actually sent. Type mismatches are ``SerializationException`` (as
AWS's deserializer answers, before any validation); constraint violations
are ``ValidationException`` from :mod:`strongroom.protocol.validate`.
Unknown members are ignored and JSON ``null`` counts as absent, as AWS does.
Responses and errors are built in :mod:`strongroom.protocol.json_output`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from botocore.model import Shape, StructureShape

from strongroom.errors import ServiceError
from strongroom.protocol import codec
from strongroom.protocol.json_output import (
    prepare_json_output,
    serialize_json_error,
    serialize_json_response,
)
from strongroom.protocol.models import ServiceSpec
from strongroom.protocol.validate import validate_input

__all__ = ["parse_json_request", "serialize_json_error", "serialize_json_response"]

Converter = Callable[[Any], Any]

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_ARTICLE = {"Integer": "an", "Long": "a", "Double": "a", "Float": "a", "Boolean": "a"}

_inputs: dict[tuple[str, str], Converter | None] = {}
_in_builders: dict[str, _InputBuilder] = {}


class _Mismatch(Exception):
    """A JSON value of the wrong type; becomes SerializationException at the boundary."""


def serialization_error(message: str) -> ServiceError:
    return ServiceError("SerializationException", message, 400)


# -- requests ---------------------------------------------------------------


def parse_json_request(spec: ServiceSpec, operation: str, body: bytes) -> dict[str, Any]:
    """Decode, type-check, convert and validate one JSON request body."""
    key = (spec.name, operation)
    try:
        converter = _inputs[key]
    except KeyError:
        converter = _inputs[key] = _build_input(spec, operation)
    if not body or body.isspace():
        raw: Any = {}
    else:
        try:
            raw = orjson.loads(body)
        except (ValueError, RecursionError):
            # ValueError covers malformed JSON and undecodable bytes alike.
            raise serialization_error("Unable to parse the request body as JSON") from None
    if type(raw) is not dict:
        raise serialization_error(_describe(raw) + " can not be converted to a Structure")
    if converter is None:
        params: dict[str, Any] = {}
    else:
        try:
            params = converter(raw)
        except _Mismatch as exc:
            raise serialization_error(str(exc)) from None
        except RecursionError:  # recursive shapes (SSM aggregators) nested absurdly deep
            raise serialization_error("The request is nested too deeply") from None
    validate_input(spec, operation, params)
    return params


def prepare_json(spec: ServiceSpec, operation: str) -> None:
    """Build the operation's request and response converters ahead of traffic."""
    key = (spec.name, operation)
    if key not in _inputs:
        _inputs[key] = _build_input(spec, operation)
    prepare_json_output(spec, operation)


def _describe(value: Any) -> str:
    """The token name AWS's JSON deserializer uses in its type-mismatch messages."""
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    if isinstance(value, int | float):
        return "NUMBER_VALUE"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, dict):
        return "START_OBJECT"
    return "VALUE_NULL"


def _not_scalar(value: Any) -> None:
    if isinstance(value, dict):
        raise _Mismatch("Start of structure or map found where not expected.")
    if isinstance(value, list):
        raise _Mismatch("Start of list found where not expected")


def _wrong_container(value: Any, expected: str) -> _Mismatch:
    if isinstance(value, dict):
        return _Mismatch("Start of structure or map found where not expected.")
    if isinstance(value, list):
        return _Mismatch("Start of list found where not expected")
    return _Mismatch(f"{_describe(value)} can not be converted to {expected}")


def _build_input(spec: ServiceSpec, operation: str) -> Converter | None:
    op = spec.operation(operation)
    if op is None:
        raise ServiceError("UnknownOperationException", "", 400)
    if op.input_shape is None:
        return None
    builder = _in_builders.get(spec.name)
    if builder is None:
        builder = _in_builders[spec.name] = _InputBuilder()
    return builder.build(op.input_shape)


def _string_in(value: Any) -> str:
    if type(value) is str:
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates from "\udXXX" escapes
                raise _Mismatch("STRING_VALUE contains invalid UTF-16 surrogates") from None
        return value
    _not_scalar(value)
    if isinstance(value, bool):
        raise _Mismatch("class java.lang.Boolean can not be converted to an String")
    raise _Mismatch(
        "class com.amazon.coral.value.json.numbers.TruncatingBigNumber "
        "can not be converted to an String"
    )


def _integer_in(java_name: str, bounds: tuple[int, int]) -> Converter:
    article = _ARTICLE[java_name]
    low, high = bounds

    def convert(value: Any) -> int:
        number: int
        kind = type(value)
        if kind is int:
            number = value
        elif kind is float and math.isfinite(value):
            number = int(value)  # AWS's deserializer truncates fractions
        else:
            _not_scalar(value)
            raise _Mismatch(f"{_describe(value)} can not be converted to {article} {java_name}")
        if not low <= number <= high:
            raise _Mismatch(f"NUMBER_VALUE can not be converted to {article} {java_name}")
        return number

    return convert


def _real_in(java_name: str) -> Converter:
    def convert(value: Any) -> float:
        kind = type(value)
        if kind is float or kind is int:
            return float(value)
        _not_scalar(value)
        raise _Mismatch(f"{_describe(value)} can not be converted to a {java_name}")

    return convert


def _boolean_in(value: Any) -> bool:
    if type(value) is bool:
        return value
    _not_scalar(value)
    raise _Mismatch(f"{_describe(value)} can not be converted to a Boolean")


def _blob_in(value: Any) -> bytes:
    if type(value) is str:
        try:
            return codec.b64decode(value)
        except ValueError:
            raise _Mismatch("Base64 encoded value of a blob member is not valid") from None
    _not_scalar(value)
    raise _Mismatch(f"{_describe(value)} can not be converted to a Blob")


def _timestamp_in(value: Any) -> datetime:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return codec.parse_timestamp(value)
        except ValueError:
            raise _Mismatch(f"{_describe(value)} can not be converted to a Timestamp") from None
    _not_scalar(value)
    raise _Mismatch(f"{_describe(value)} can not be converted to a Timestamp")


def _passthrough(value: Any) -> Any:
    return value


_SCALAR_IN: dict[str, Converter] = {
    "string": _string_in,
    "integer": _integer_in("Integer", _INT32),
    "long": _integer_in("Long", _INT64),
    "float": _real_in("Float"),
    "double": _real_in("Double"),
    "boolean": _boolean_in,
    "blob": _blob_in,
    "timestamp": _timestamp_in,
}


class _InputBuilder:
    """Request converters for one service; registers before recursing (models recurse)."""

    def __init__(self) -> None:
        self._memo: dict[str, Converter] = {}

    def build(self, shape: Shape) -> Converter:
        found = self._memo.get(shape.name)
        if found is not None:
            return found
        kind = shape.type_name
        scalar = _SCALAR_IN.get(kind)
        if scalar is not None:
            self._memo[shape.name] = scalar
            return scalar
        if kind == "list":
            return self._list(shape)
        if kind == "map":
            return self._map(shape)
        if isinstance(shape, StructureShape):
            return self._structure(shape)
        return _passthrough  # pragma: no cover - documents are not used by our services

    def _structure(self, shape: StructureShape) -> Converter:
        members: dict[str, Converter] = {}

        def convert(value: Any) -> dict[str, Any]:
            if type(value) is not dict:
                raise _wrong_container(value, "a Structure")
            out: dict[str, Any] = {}
            for name, item in value.items():
                member = members.get(name)
                if member is not None and item is not None:
                    out[name] = member(item)
            return out

        self._memo[shape.name] = convert
        for name, member_shape in shape.members.items():
            members[name] = self.build(member_shape)
        return convert

    def _list(self, shape: Shape) -> Converter:
        cell: list[Converter] = [_passthrough]

        def convert(value: Any) -> list[Any]:
            if type(value) is not list:
                raise _wrong_container(value, "a List")
            item = cell[0]
            # A null inside a list has no meaning to AWS; it is dropped.
            return [item(v) for v in value if v is not None]

        self._memo[shape.name] = convert
        cell[0] = self.build(shape.member)
        return convert

    def _map(self, shape: Shape) -> Converter:
        cell: list[Converter] = [_passthrough]
        key_convert: Converter = _SCALAR_IN.get(shape.key.type_name, _string_in)

        def convert(value: Any) -> dict[Any, Any]:
            if type(value) is not dict:
                raise _wrong_container(value, "a Map")
            item = cell[0]
            return {key_convert(k): item(v) for k, v in value.items() if v is not None}

        self._memo[shape.name] = convert
        cell[0] = self.build(shape.value)
        return convert
