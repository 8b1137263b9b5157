"""XML responses and errors of the AWS Query protocol.

A success looks like::

    <CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
      <CreateUserResult><User>...</User></CreateUserResult>
      <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
    </CreateUserResponse>

Lists are ``<Name><member>..</member></Name>`` (repeated ``<Name>`` when
flattened), maps ``<entry><key/><value/></entry>``; element names honour
``locationName``. Each shape gets one writer closure that appends strings
to a list, joined once at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from botocore.model import Shape, StructureShape

from strongroom.errors import ServiceError
from strongroom.protocol import codec
from strongroom.protocol.models import ServiceSpec

# (value, element name, output pieces)
Writer = Callable[[Any, str, list[str]], None]

_CONTENT_TYPE = ("content-type", "text/xml")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
# What needs escaping, plus what XML 1.0 cannot carry at all (control characters,
# lone surrogates, U+FFFE/U+FFFF): those become U+FFFD rather than an
# unparseable document.
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_writers: dict[tuple[str, str], tuple[Writer | None, str]] = {}
_builders: dict[str, _Builder] = {}


def escape(text: str) -> str:
    """XML character data; ``\\r`` is escaped so it survives end-of-line normalisation."""
    if _SPECIAL.search(text) is None:
        return text
    return _SPECIAL.sub(_replace, text)


def _replace(match: re.Match[str]) -> str:
    return _ESCAPES.get(match.group(), "\ufffd")


def serialize_query_response(
    spec: ServiceSpec, operation: str, result: dict[str, Any], request_id: str
) -> bytes:
    """The ``<{Op}Response>`` document; no ``<{Op}Result>`` when the operation has no output."""
    key = (spec.name, operation)
    try:
        writer, wrapper = _writers[key]
    except KeyError:
        writer, wrapper = _writers[key] = _build_output(spec, operation)
    namespace = f' xmlns="{escape(spec.xml_namespace)}"' if spec.xml_namespace else ""
    out = [f"<{operation}Response{namespace}>"]
    if writer is not None:
        writer(result or {}, wrapper, out)
    out.append(
        f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
    )
    return "".join(out).encode("utf-8")


def serialize_query_error(
    err: ServiceError, request_id: str, *, spec: ServiceSpec | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>``.

    ``spec`` adds the service's XML namespace, as IAM and STS send it. The
    caller adds ``err.headers`` and the request id, as it does for successes.
    """
    namespace = ""
    if spec is not None and spec.xml_namespace:
        namespace = f' xmlns="{escape(spec.xml_namespace)}"'
    fault = "Sender" if err.sender_fault else "Receiver"
    body = (
        f"<ErrorResponse{namespace}><Error><Type>{fault}</Type>"
        f"<Code>{escape(err.code)}</Code><Message>{escape(err.message)}</Message>"
        f"</Error><RequestId>{escape(request_id)}</RequestId></ErrorResponse>"
    )
    return err.status, [_CONTENT_TYPE], body.encode("utf-8")


def prepare_xml(spec: ServiceSpec, operation: str) -> None:
    key = (spec.name, operation)
    if key not in _writers:
        _writers[key] = _build_output(spec, operation)


def _build_output(spec: ServiceSpec, operation: str) -> tuple[Writer | None, str]:
    op = spec.operation(operation)
    if op is None or op.output_shape is None:
        return None, ""
    shape = op.output_shape
    wrapper = str(shape.serialization.get("resultWrapper") or f"{operation}Result")
    builder = _builders.get(spec.name)
    if builder is None:
        builder = _builders[spec.name] = _Builder()
    return builder.build(shape), wrapper


def _text(value: Any, tag: str, out: list[str]) -> None:
    out.append(f"<{tag}>{escape(str(value))}</{tag}>")


def _boolean(value: Any, tag: str, out: list[str]) -> None:
    out.append(f"<{tag}>{'true' if value else 'false'}</{tag}>")


def _integer(value: Any, tag: str, out: list[str]) -> None:
    out.append(f"<{tag}>{int(value)}</{tag}>")


def _real(value: Any, tag: str, out: list[str]) -> None:
    out.append(f"<{tag}>{float(value)!r}</{tag}>")


def _timestamp(value: Any, tag: str, out: list[str]) -> None:
    moment = codec.timestamp_out(value)
    if moment is None:  # already a string: trust the service
        _text(value, tag, out)
    else:
        out.append(f"<{tag}>{codec.iso8601(moment)}</{tag}>")


def _blob(value: Any, tag: str, out: list[str]) -> None:
    if isinstance(value, bytes | bytearray | memoryview):
        out.append(f"<{tag}>{codec.b64encode(bytes(value))}</{tag}>")
    else:
        _text(value, tag, out)


_SCALAR_OUT: dict[str, Writer] = {
    "string": _text,
    "integer": _integer,
    "long": _integer,
    "float": _real,
    "double": _real,
    "boolean": _boolean,
    "timestamp": _timestamp,
    "blob": _blob,
}


def _element_name(shape: Shape, member_name: str) -> str:
    """The element of a structure member, as botocore's XML parser looks it up."""
    if shape.type_name == "list" and shape.serialization.get("flattened"):
        inner = shape.member.serialization.get("name")
        if inner:
            return str(inner)
    name = shape.serialization.get("name")
    return str(name) if name else member_name


class _Builder:
    """XML writers for one service (memoized by shape name; models may recurse)."""

    def __init__(self) -> None:
        self._memo: dict[str, Writer] = {}

    def build(self, shape: Shape) -> Writer:
        found = self._memo.get(shape.name)
        if found is not None:
            return found
        kind = shape.type_name
        scalar = _SCALAR_OUT.get(kind)
        if scalar is not None:
            return scalar
        if kind == "list":
            return self._list(shape)
        if kind == "map":
            return self._map(shape)
        if isinstance(shape, StructureShape):
            return self._structure(shape)
        return _text  # pragma: no cover

    def _structure(self, shape: StructureShape) -> Writer:
        members: list[tuple[str, str, Writer]] = []

        def write(value: Any, tag: str, out: list[str]) -> None:
            out.append(f"<{tag}>")
            for name, element, writer in members:
                item = value.get(name)
                if item is not None:
                    writer(item, element, out)
            out.append(f"</{tag}>")

        self._memo[shape.name] = write
        for name, member_shape in shape.members.items():
            members.append((name, _element_name(member_shape, name), self.build(member_shape)))
        return write

    def _list(self, shape: Shape) -> Writer:
        flattened = bool(shape.serialization.get("flattened"))
        member_tag = str(shape.member.serialization.get("name") or "member")
        cell: list[Writer] = [_text]

        def write(value: Any, tag: str, out: list[str]) -> None:
            item = cell[0]
            if flattened:
                for element in value:
                    item(element, tag, out)
                return
            out.append(f"<{tag}>")
            for element in value:
                item(element, member_tag, out)
            out.append(f"</{tag}>")

        self._memo[shape.name] = write
        cell[0] = self.build(shape.member)
        return write

    def _map(self, shape: Shape) -> Writer:
        flattened = bool(shape.serialization.get("flattened"))
        key_shape: Shape = shape.key
        value_shape: Shape = shape.value
        key_tag = str(key_shape.serialization.get("name") or "key")
        value_tag = str(value_shape.serialization.get("name") or "value")
        key_writer = _SCALAR_OUT.get(key_shape.type_name, _text)
        cell: list[Writer] = [_text]

        def write(value: Any, tag: str, out: list[str]) -> None:
            item = cell[0]
            if not flattened:
                out.append(f"<{tag}>")
            entry = tag if flattened else "entry"
            for key, element in value.items():
                out.append(f"<{entry}>")
                key_writer(key, key_tag, out)
                if element is not None:
                    item(element, value_tag, out)
                out.append(f"</{entry}>")
            if not flattened:
                out.append(f"</{tag}>")

        self._memo[shape.name] = write
        cell[0] = self.build(value_shape)
        return write


__all__ = ["escape", "serialize_query_error", "serialize_query_response"]
