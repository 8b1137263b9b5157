"""Every operation of every served service, both directions, against botocore.

Requests: botocore serializes sample input for each operation exactly as a
client would; routing plus parsing must give the same params back. Responses:
sample output is serialized by us and parsed by botocore; the client must see
the same data. Validation is switched off here (sample strings do not satisfy
every pattern); it has its own tests.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.protocol.peer import SampleGenerator, client_parse, client_request

from strongroom.protocol import (
    SERVED_SERVICES,
    load_service,
    route_and_parse,
    serialize_json_response,
    serialize_query_response,
)


@pytest.fixture()
def no_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def skip(*_: Any) -> None:
        return None

    monkeypatch.setattr("strongroom.protocol.json_protocol.validate_input", skip)
    monkeypatch.setattr("strongroom.protocol.query_protocol.validate_input", skip)


@pytest.mark.usefixtures("no_validation")
@pytest.mark.parametrize("service", SERVED_SERVICES)
def test_every_request_round_trips(service: str) -> None:
    spec = load_service(service)
    generator = SampleGenerator()
    failures: list[str] = []
    checked = 0
    for operation in sorted(spec.operations):
        op = spec.model.operation_model(operation)
        params = generator.value(op.input_shape) if op.input_shape is not None else {}
        request = client_request(service, operation, params)
        routed, name, parsed = route_and_parse(
            request["method"], "/", request["headers"], request["body"], "", spec.signing_name
        )
        checked += 1
        if routed is not spec or name != operation or parsed != params:
            failures.append(f"{operation}: sent {params!r}, parsed {parsed!r}")
    assert checked == len(spec.operations)
    assert not failures, "\n".join(failures[:5])


@pytest.mark.parametrize("service", SERVED_SERVICES)
def test_every_response_reaches_the_client_intact(service: str) -> None:
    spec = load_service(service)
    generator = SampleGenerator()
    failures: list[str] = []
    for operation in sorted(spec.operations):
        op = spec.model.operation_model(operation)
        if op.output_shape is None:
            continue
        result = generator.value(op.output_shape)
        if spec.protocol == "json":
            body = serialize_json_response(spec, operation, result)
            headers = {"content-type": spec.json_content_type}
        else:
            body = serialize_query_response(spec, operation, result, "req-1")
            headers = {"content-type": "text/xml"}
        seen = client_parse(spec, operation, 200, headers, body)
        if seen != result:
            failures.append(f"{operation}: sent {result!r}, client saw {seen!r}")
    assert not failures, "\n".join(failures[:5])
