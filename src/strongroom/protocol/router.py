"""Which service and operation a request is for, from its bytes and headers alone.

All served services share one endpoint, so the wire format itself says where
a request goes:

* JSON services name it in ``X-Amz-Target: <targetPrefix>.<Operation>``;
  the prefix picks the service (CloudTrail's prefix itself contains dots).
* Query services (IAM, STS) send ``Action=...&Version=...`` as a form body
  (POST) or query string (GET). Both are served by one endpoint, so the
  SigV4 credential scope (``.../iam/aws4_request``) decides between them
  when present; otherwise the first Query service defining the Action wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from strongroom.errors import ServiceError
from strongroom.protocol.json_protocol import parse_json_request, prepare_json
from strongroom.protocol.models import SERVED_SERVICES, ServiceSpec, load_service
from strongroom.protocol.query_protocol import parse_query_request, prepare_query
from strongroom.protocol.validate import prepare_validation

_FORM = "application/x-www-form-urlencoded"

_by_prefix: dict[str, ServiceSpec] = {}
_json_names: frozenset[str] = frozenset()
_query_specs: tuple[ServiceSpec, ...] = ()


def _index() -> None:
    """Load every served model once and index JSON services by target prefix."""
    global _json_names, _query_specs
    if _query_specs:
        return
    query: list[ServiceSpec] = []
    json_names: set[str] = set()
    for name in SERVED_SERVICES:
        spec = load_service(name)
        if spec.protocol == "query":
            query.append(spec)
        elif spec.target_prefix:
            _by_prefix[spec.target_prefix] = spec
            json_names.update((spec.name, spec.signing_name))
    _json_names = frozenset(json_names)
    _query_specs = tuple(query)


def warm_up() -> None:
    """Load every model and build every operation's converters (~0.5 s, once).

    Optional: everything is otherwise built on first use. A server calls it
    at startup so no client request pays for model loading.
    """
    _index()
    for name in SERVED_SERVICES:
        spec = load_service(name)
        for operation in spec.operations:
            prepare_validation(spec, operation)
            if spec.protocol == "query":
                prepare_query(spec, operation)
            else:
                prepare_json(spec, operation)


def unknown_operation() -> ServiceError:
    # AWS answers an unknown target with a bare type and no message.
    return ServiceError("UnknownOperationException", "", 400)


def route(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    query: str,
    signing_service: str | None,
) -> tuple[ServiceSpec, str]:
    """``(service, operation)`` for one request; ``headers`` have lower-case names.

    Raises ``ServiceError``: ``UnknownOperationException`` (JSON),
    ``MissingAction`` / ``InvalidAction`` (Query), ``MalformedQueryString``.
    """
    spec, operation, _ = _route(method, headers, body, query, signing_service)
    return spec, operation


def route_and_parse(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    query: str,
    signing_service: str | None,
) -> tuple[ServiceSpec, str, dict[str, Any]]:
    """``route`` plus the parsed, validated parameters, decoding a form body only once."""
    spec, operation, form = _route(method, headers, body, query, signing_service)
    if form is None:
        return spec, operation, parse_json_request(spec, operation, body)
    return spec, operation, parse_query_request(spec, operation, form)


def _route(
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    query: str,
    signing_service: str | None,
) -> tuple[ServiceSpec, str, dict[str, list[str]] | None]:
    _index()
    target = headers.get("x-amz-target")
    if target is not None:
        prefix, _, operation = target.rpartition(".")
        spec = _by_prefix.get(prefix)
        if spec is None or operation not in spec.operations:
            raise unknown_operation()
        return spec, operation, None
    if signing_service in _json_names:
        # Signed for a JSON service but no target: nothing to dispatch on.
        raise unknown_operation()
    form = query_parameters(method, headers, body, query)
    action = _first(form, "Action")
    if not action:
        raise ServiceError("MissingAction", "Missing Action", 400)
    version = _first(form, "Version")
    candidates = _query_specs
    if signing_service:
        scoped = tuple(s for s in _query_specs if signing_service in (s.name, s.signing_name))
        if scoped:
            candidates = scoped
    for spec in candidates:
        if action in spec.operations and version == spec.api_version:
            return spec, action, form
    raise ServiceError(
        "InvalidAction",
        f"Could not find operation {action} for version {version or 'NO_VERSION_SPECIFIED'}",
        400,
    )


def _first(form: Mapping[str, list[str]], key: str) -> str:
    values = form.get(key)
    return values[0] if values else ""


def query_parameters(
    method: str, headers: Mapping[str, str], body: bytes, query: str
) -> dict[str, list[str]]:
    """The Query parameters: the URL's, then a form body's (POST) after them."""
    params: dict[str, list[str]] = {}
    if query:
        _parse_form(query, params)
    if body and method.upper() == "POST":
        content_type = headers.get("content-type", _FORM)
        if content_type.split(";", 1)[0].strip().lower() == _FORM:
            try:
                text = body.decode("ascii")
            except UnicodeDecodeError:
                raise _malformed() from None
            _parse_form(text, params)
    return params


def _malformed() -> ServiceError:
    return ServiceError("MalformedQueryString", "The query string contains a syntax error.", 404)


def _parse_form(text: str, into: dict[str, list[str]]) -> None:
    """``application/x-www-form-urlencoded``: percent-escapes must decode to UTF-8."""
    for pair in text.split("&"):
        if not pair:
            continue
        raw_key, _, raw_value = pair.partition("=")
        try:
            key = (
                unquote_plus(raw_key, errors="strict")
                if "%" in raw_key or "+" in raw_key
                else raw_key
            )
            value = (
                unquote_plus(raw_value, errors="strict")
                if "%" in raw_value or "+" in raw_value
                else raw_value
            )
        except UnicodeDecodeError:
            raise _malformed() from None
        existing = into.get(key)
        if existing is None:
            into[key] = [value]
        else:
            existing.append(value)
