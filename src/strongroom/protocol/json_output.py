"""AWS JSON 1.0 / 1.1 responses and errors.

Responses carry only the output shape's members (a service may hand back
more), blobs as base64 and timestamps as epoch seconds; ``None`` means
absent. One converter closure per shape, memoized by shape name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from botocore.model import Shape, StructureShape

from strongroom.errors import ServiceError
from strongroom.protocol import codec
from strongroom.protocol.models import ServiceSpec

Converter = Callable[[Any], Any]

_outputs: dict[tuple[str, str], Converter | None] = {}
_out_builders: dict[str, _OutputBuilder] = {}


def _passthrough(value: Any) -> Any:
    return value


def prepare_json_output(spec: ServiceSpec, operation: str) -> None:
    key = (spec.name, operation)
    if key not in _outputs:
        _outputs[key] = _build_output(spec, operation)


# -- responses --------------------------------------------------------------


def serialize_json_response(spec: ServiceSpec, operation: str, result: dict[str, Any]) -> bytes:
    """Only the output shape's members, blobs as base64, timestamps as epoch seconds."""
    key = (spec.name, operation)
    try:
        converter = _outputs[key]
    except KeyError:
        converter = _outputs[key] = _build_output(spec, operation)
    if converter is None or not result:
        return b"{}"
    return orjson.dumps(converter(result))


def _build_output(spec: ServiceSpec, operation: str) -> Converter | None:
    op = spec.operation(operation)
    if op is None or op.output_shape is None:
        return None
    builder = _out_builders.get(spec.name)
    if builder is None:
        builder = _out_builders[spec.name] = _OutputBuilder()
    return builder.build(op.output_shape)


def _blob_out(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return codec.b64encode(bytes(value))
    return value


def _timestamp_out(value: Any) -> Any:
    if isinstance(value, datetime):
        return codec.epoch_seconds(value)
    return value


class _OutputBuilder:
    """Response converters: filter to modelled members, encode blobs and timestamps."""

    def __init__(self) -> None:
        self._memo: dict[str, Converter] = {}

    def build(self, shape: Shape) -> Converter:
        found = self._memo.get(shape.name)
        if found is not None:
            return found
        kind = shape.type_name
        if kind == "blob":
            return _blob_out
        if kind == "timestamp":
            return _timestamp_out
        if kind == "list":
            return self._list(shape)
        if kind == "map":
            return self._map(shape)
        if isinstance(shape, StructureShape):
            return self._structure(shape)
        return _passthrough

    def _structure(self, shape: StructureShape) -> Converter:
        members: list[tuple[str, Converter]] = []

        def convert(value: Any) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, member in members:
                item = value.get(name)
                if item is not None:
                    out[name] = member(item)
            return out

        self._memo[shape.name] = convert
        for name, member_shape in shape.members.items():
            members.append((name, self.build(member_shape)))
        return convert

    def _list(self, shape: Shape) -> Converter:
        cell: list[Converter] = [_passthrough]

        def convert(value: Any) -> list[Any]:
            item = cell[0]
            if item is _passthrough:
                return list(value)
            return [item(v) for v in value]

        self._memo[shape.name] = convert
        cell[0] = self.build(shape.member)
        return convert

    def _map(self, shape: Shape) -> Converter:
        cell: list[Converter] = [_passthrough]

        def convert(value: Any) -> dict[Any, Any]:
            item = cell[0]
            if item is _passthrough:
                return dict(value)
            return {k: item(v) for k, v in value.items()}

        self._memo[shape.name] = convert
        cell[0] = self.build(shape.value)
        return convert


# -- errors -----------------------------------------------------------------


def serialize_json_error(
    err: ServiceError, *, json_version: str = "1.1"
) -> tuple[int, list[tuple[str, str]], bytes]:
    """``{"__type": code, "message": msg}`` with the code in ``x-amzn-ErrorType`` too.

    ``json_version`` picks the content type (``1.0`` services exist). The
    caller adds ``err.headers`` and the request id, as it does for successes.
    """
    body: dict[str, str] = {"__type": err.code}
    if err.message:
        body["message"] = err.message
    headers = [
        ("content-type", f"application/x-amz-json-{json_version}"),
        ("x-amzn-ErrorType", err.code),
    ]
    return err.status, headers, orjson.dumps(body)
