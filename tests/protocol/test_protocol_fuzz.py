"""Whatever a client sends, the protocol layer answers with a ServiceError, never a crash.

Random bytes, random JSON (including documents built from the model's own
member names, so the converters are reached at every depth) and random form
bodies go through ``route_and_parse``; the only exception allowed out is
``ServiceError`` with a 4xx status.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom.errors import ServiceError
from strongroom.protocol import load_service, route_and_parse

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JSON_SERVICES = ("kms", "ssm", "secretsmanager", "cloudtrail", "events")
QUERY_SERVICES = ("iam", "sts")


def _member_names(service: str) -> list[str]:
    model = load_service(service).model
    names: set[str] = set()
    for shape_name in model.shape_names:
        shape = model.shape_for(shape_name)
        if shape.type_name == "structure":
            names.update(shape.members)
    return sorted(names)


def _targets() -> list[str]:
    out: list[str] = []
    for service in JSON_SERVICES:
        spec = load_service(service)
        out.extend(f"{spec.target_prefix}.{op}" for op in sorted(spec.operations))
    return out


TARGETS = _targets()
MEMBERS = sorted({n for s in JSON_SERVICES for n in _member_names(s)})
QUERY_ACTIONS = sorted({(s, op) for s in QUERY_SERVICES for op in load_service(s).operations})
QUERY_MEMBERS = sorted({n for s in QUERY_SERVICES for n in _member_names(s)})

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["", "eA==", "2024-01-01T00:00:00Z", "1700000000", "\ud800", "AA=A"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(MEMBERS) | st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=20,
)


def _shaped(shape: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Mostly well-typed values for ``shape``, sometimes (1 in 16) anything at all."""
    kind = shape.type_name
    if depth > 5:
        return scalars
    if kind == "structure":
        members = {name: _shaped(member, depth + 1) for name, member in shape.members.items()}
        typed: st.SearchStrategy[Any] = st.fixed_dictionaries({}, optional=members)
    elif kind == "list":
        typed = st.lists(_shaped(shape.member, depth + 1), max_size=3)
    elif kind == "map":
        typed = st.dictionaries(st.text(max_size=4), _shaped(shape.value, depth + 1), max_size=3)
    elif kind == "string":
        typed = st.sampled_from(shape.enum) if shape.enum else st.text(max_size=12)
    elif kind in ("integer", "long"):
        typed = st.integers(min_value=-5, max_value=5000)
    elif kind in ("float", "double"):
        typed = st.floats(allow_nan=False, allow_infinity=False)
    elif kind == "boolean":
        typed = st.booleans()
    elif kind == "timestamp":
        typed = st.integers(min_value=0, max_value=4 * 10**9)
    else:  # blob
        typed = st.binary(max_size=8).map(lambda b: __import__("base64").b64encode(b).decode())
    if depth == 0:
        return typed
    return st.integers(min_value=0, max_value=15).flatmap(lambda n: typed if n else scalars)


def _only_service_errors(
    method: str, headers: dict[str, str], body: bytes, query: str, signing: str | None
) -> None:
    try:
        route_and_parse(method, "/", headers, body, query, signing)
    except ServiceError as err:
        assert 400 <= err.status < 500, err


@FUZZ
@given(
    target=st.sampled_from(TARGETS) | st.text(max_size=30),
    body=st.binary(max_size=200),
    signing=st.sampled_from([None, "kms", "iam", "sts", "ssm", "bogus"]),
)
def test_random_bytes_to_json_targets(target: str, body: bytes, signing: str | None) -> None:
    _only_service_errors(
        "POST",
        {"x-amz-target": target, "content-type": "application/x-amz-json-1.1"},
        body,
        "",
        signing,
    )


@FUZZ
@given(target=st.sampled_from(TARGETS), document=json_values)
def test_random_json_documents_built_from_model_member_names(target: str, document: Any) -> None:
    import json

    body = json.dumps(document, allow_nan=True).encode()
    _only_service_errors("POST", {"x-amz-target": target}, body, "", None)


@FUZZ
@given(data=st.data(), target=st.sampled_from(TARGETS))
def test_shape_guided_json_reaches_every_converter(data: st.DataObject, target: str) -> None:
    import json

    prefix, _, operation = target.rpartition(".")
    spec = next(load_service(s) for s in JSON_SERVICES if load_service(s).target_prefix == prefix)
    shape = spec.model.operation_model(operation).input_shape
    document = data.draw(_shaped(shape)) if shape is not None else {}
    body = json.dumps(document, allow_nan=True).encode()
    _only_service_errors("POST", {"x-amz-target": target}, body, "", None)


_segment = st.sampled_from(QUERY_MEMBERS) | st.sampled_from(
    ["member", "entry", "key", "value", "1", "2", "0", "10", "x", "", "99999999999"]
)
_form_key = st.lists(_segment, min_size=1, max_size=5).map(".".join)
_form_value = st.text(max_size=15) | st.sampled_from(
    ["true", "false", "1", "-5", "abc", "", "eA=="]
)


@FUZZ
@given(
    action=st.sampled_from(QUERY_ACTIONS),
    pairs=st.lists(st.tuples(_form_key, _form_value), max_size=12),
    signing=st.sampled_from([None, "iam", "sts"]),
)
def test_random_form_bodies_for_query_actions(
    action: tuple[str, str], pairs: list[tuple[str, str]], signing: str | None
) -> None:
    from urllib.parse import urlencode

    service, operation = action
    version = load_service(service).api_version
    body = urlencode([("Action", operation), ("Version", version), *pairs]).encode()
    _only_service_errors(
        "POST", {"content-type": "application/x-www-form-urlencoded"}, body, "", signing
    )


def _wire_keys(service: str, operation: str) -> list[str]:
    """The form keys botocore sends for a full sample of the operation's input."""
    from urllib.parse import parse_qs

    from tests.protocol.peer import SampleGenerator, client_request

    shape = load_service(service).model.operation_model(operation).input_shape
    params = SampleGenerator().value(shape) if shape is not None else {}
    body = client_request(service, operation, params)["body"].decode()
    return sorted(
        k for k in parse_qs(body, keep_blank_values=True) if k not in ("Action", "Version")
    )


WIRE_KEYS = {action: _wire_keys(*action) for action in QUERY_ACTIONS}


@FUZZ
@given(data=st.data(), action=st.sampled_from(QUERY_ACTIONS))
def test_query_forms_with_real_keys_and_random_values(
    data: st.DataObject, action: tuple[str, str]
) -> None:
    from urllib.parse import urlencode

    service, operation = action
    keys = WIRE_KEYS[action] or ["Unused"]
    pairs = data.draw(
        st.lists(st.tuples(st.sampled_from(keys), _form_value), max_size=len(keys) + 2)
    )
    version = load_service(service).api_version
    body = urlencode([("Action", operation), ("Version", version), *pairs]).encode()
    _only_service_errors("POST", {}, body, "", service)


@FUZZ
@given(
    body=st.binary(max_size=200),
    query=st.text(max_size=60),
    method=st.sampled_from(["GET", "POST"]),
)
def test_random_bytes_without_target(body: bytes, query: str, method: str) -> None:
    _only_service_errors(
        method, {"content-type": "application/x-www-form-urlencoded"}, body, query, None
    )
