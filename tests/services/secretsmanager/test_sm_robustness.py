"""Every operation answers any input of the model's types with a result or a
ServiceError (an AWS error), never another exception (a 500 at the gateway).

Inputs are generated from the botocore shapes but not validated against their
constraints, so lengths, patterns, enums and required members are all broken
at random; a few real names are mixed in so that some calls reach deep.
"""

from __future__ import annotations

from typing import Any

from botocore.loaders import Loader
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.services.secretsmanager.sm_support import SmEnv

from strongroom.errors import ServiceError

_MODEL = Loader().load_service_model("secretsmanager", "service-2")
_SHAPES = _MODEL["shapes"]
_OPERATIONS = sorted(_MODEL["operations"])
_NAMES = [
    "fuzz",
    "fuzz/other",
    "arn:aws:secretsmanager:us-east-1:111122223333:secret:fuzz",
    "AWSCURRENT",
]


def _strategy(shape_name: str, depth: int = 0) -> st.SearchStrategy[Any]:
    shape = _SHAPES[shape_name]
    kind = shape["type"]
    if kind == "string":
        options: list[st.SearchStrategy[Any]] = [st.text(max_size=20), st.sampled_from(_NAMES)]
        if "enum" in shape:
            options.append(st.sampled_from(shape["enum"]))
        return st.one_of(*options)
    if kind in ("integer", "long"):
        return st.integers(min_value=-5, max_value=5000)
    if kind == "boolean":
        return st.booleans()
    if kind == "blob":
        return st.binary(max_size=20)
    if kind == "timestamp":
        return st.datetimes()
    if depth > 3:
        return st.none()
    if kind == "list":
        return st.lists(_strategy(shape["member"]["shape"], depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(
            st.text(max_size=8), _strategy(shape["value"]["shape"], depth + 1), max_size=2
        )
    members = {name: _strategy(m["shape"], depth + 1) for name, m in shape["members"].items()}
    return st.fixed_dictionaries({}, optional=members)


def _request(op: str) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    return st.tuples(st.just(op), _strategy(_MODEL["operations"][op]["input"]["shape"]))


ENV = SmEnv()
ENV.secret("fuzz", "value")
ENV.secret("fuzz/other", "value", Tags=[{"Key": "k", "Value": "v"}])


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=st.one_of(*[_request(op) for op in _OPERATIONS]))
def test_any_typed_input_gives_a_result_or_an_aws_error(
    request: tuple[str, dict[str, Any]],
) -> None:
    op, params = request
    try:
        ENV.call(op, **params)
    except ServiceError as exc:
        assert exc.code and exc.status < 500, exc
