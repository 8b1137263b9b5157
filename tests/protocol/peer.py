"""botocore as the other end of the wire: real client requests, real client parsing.

Everything the protocol layer emits is read back with the parsers boto3 uses,
and everything it reads was written by the serializers boto3 uses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.model import OperationModel, Shape
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from botocore.utils import percent_encode_sequence

from strongroom.protocol import ServiceSpec, load_service


def op_model(service: str, operation: str) -> OperationModel:
    return load_service(service).model.operation_model(operation)


def client_request(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """What botocore would send: ``{"headers": {lower: value}, "body": bytes}``."""
    spec = load_service(service)
    serializer = create_serializer(spec.protocol, include_validation=False)
    request = serializer.serialize_to_request(params, op_model(service, operation))
    body = request["body"]
    if isinstance(body, dict):  # Query: a dict of form fields, encoded at send time
        body = percent_encode_sequence(body).encode("ascii")
    elif isinstance(body, str):
        body = body.encode("utf-8")
    headers = {k.lower(): v for k, v in request["headers"].items()}
    return {"headers": headers, "body": body, "method": request["method"]}


def client_parse(
    spec: ServiceSpec,
    operation: str,
    status: int,
    headers: list[tuple[str, str]] | dict[str, str],
    body: bytes,
) -> dict[str, Any]:
    """What boto3 hands the caller (``ResponseMetadata`` removed)."""
    parser = create_parser(spec.protocol)
    header_map = dict(headers) if isinstance(headers, list) else headers
    parsed: dict[str, Any] = parser.parse(
        {"status_code": status, "headers": header_map, "body": body},
        op_model(spec.name, operation).output_shape,
    )
    parsed.pop("ResponseMetadata", None)
    return parsed


WHEN = datetime(2024, 2, 29, 12, 30, 15, tzinfo=UTC)


class SampleGenerator:
    """Deterministic sample values of every shape kind, recursion bounded.

    Lists get two elements and maps two entries so ordering and indexing are
    exercised; a union structure gets only its first member.
    """

    def __init__(self) -> None:
        self._counter = 0

    def value(self, shape: Shape, name: str = "v", depth: int = 0) -> Any:
        kind = shape.type_name
        self._counter += 1
        if kind == "structure":
            if depth > 4:
                return {}
            members = list(shape.members.items())
            if shape.metadata.get("union"):
                members = members[:1]
            return {n: self.value(s, n, depth + 1) for n, s in members}
        if kind == "list":
            if depth > 4:
                return []
            return [self.value(shape.member, name, depth + 1) for _ in range(2)]
        if kind == "map":
            if depth > 4:
                return {}
            return {f"{name}-key{i}": self.value(shape.value, name, depth + 1) for i in range(2)}
        if kind == "string":
            if shape.enum:
                return shape.enum[self._counter % len(shape.enum)]
            return f"{name}<&>é{self._counter}"
        if kind in ("integer", "long"):
            return self._counter
        if kind in ("float", "double"):
            return self._counter + 0.5
        if kind == "boolean":
            return self._counter % 2 == 0
        if kind == "timestamp":
            return WHEN
        if kind == "blob":
            return b"\x00\xff" + name.encode()
        raise AssertionError(f"unexpected shape kind {kind}")
