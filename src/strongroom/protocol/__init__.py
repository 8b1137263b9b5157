"""Sans-IO AWS wire protocols (JSON 1.0/1.1 and Query), driven by the botocore models.

Bytes and headers in, ``(service, operation, params)`` out; results and
``ServiceError`` in, ``(status, headers, body)`` out. Nothing here touches a
socket or a clock. ``docs/design/protocol.md`` describes the layer.
"""

from strongroom.protocol.json_protocol import (
    parse_json_request,
    serialize_json_error,
    serialize_json_response,
)
from strongroom.protocol.models import SERVED_SERVICES, ServiceSpec, load_service
from strongroom.protocol.query_protocol import (
    parse_query_request,
    serialize_query_error,
    serialize_query_response,
)
from strongroom.protocol.router import query_parameters, route, route_and_parse, warm_up
from strongroom.protocol.validate import validate_input

__all__ = [
    "SERVED_SERVICES",
    "ServiceSpec",
    "load_service",
    "parse_json_request",
    "parse_query_request",
    "query_parameters",
    "route",
    "route_and_parse",
    "serialize_json_error",
    "serialize_json_response",
    "serialize_query_error",
    "serialize_query_response",
    "validate_input",
    "warm_up",
]
