"""The ordered request steps, free of ASGI: HttpRequest in, HttpResponse out.

parse route -> authenticate -> parse params -> operation -> serialize.
This is the one place where exceptions become responses: a ServiceError is
answered in the protocol of the service that was called; anything else is
logged with its trace and answered as InternalFailure with the request id.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from strongroom.auth import SigV4Claim, extract_claim
from strongroom.context import RequestContext
from strongroom.errors import (
    AuthFailure,
    ServiceError,
    auth_error,
    internal_failure,
    not_implemented,
)
from strongroom.gateway.authentication import authenticate
from strongroom.gateway.request import HttpRequest, HttpResponse
from strongroom.platform import Platform
from strongroom.protocol.json_protocol import (
    parse_json_request,
    serialize_json_error,
    serialize_json_response,
)
from strongroom.protocol.models import ServiceSpec
from strongroom.protocol.query_protocol import (
    parse_query_request,
    serialize_query_error,
    serialize_query_response,
)
from strongroom.protocol.router import query_parameters, route

log = logging.getLogger("strongroom.gateway")

_XML_CONTENT_TYPE = "text/xml"


class Pipeline:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def handle(self, req: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        spec: ServiceSpec | None = None
        try:
            claim: SigV4Claim | None = None
            auth_failure: AuthFailure | None = None
            try:
                claim = extract_claim(req.method, req.path, req.query, req.headers)
            except AuthFailure as failure:
                auth_failure = failure
            spec, operation = route(
                req.method,
                req.path,
                req.headers,
                req.body,
                req.query,
                claim.service if claim else None,
            )
            if auth_failure is not None or claim is None:
                assert auth_failure is not None
                raise auth_error(auth_failure, spec.protocol)
            now = self.platform.clock()
            try:
                principal = authenticate(self.platform, claim, req, now, spec.signing_name)
            except AuthFailure as failure:
                raise auth_error(failure, spec.protocol) from None
            params = self._parse(spec, operation, req)
            service = self.platform.services.get(spec.name)
            handler = service.handler(operation) if service is not None else None
            if handler is None:
                raise not_implemented(spec.name, operation)
            ctx = RequestContext(
                request_id=request_id,
                region=claim.region,
                principal=principal,
                now=now,
                platform=self.platform,
                service=spec.name,
                operation=operation,
                source_ip=req.client_ip,
                user_agent=req.headers.get("user-agent", ""),
                secure_transport=req.secure,
            )
            result = handler(ctx, params)
            return self._success(spec, operation, result, request_id)
        except ServiceError as err:
            return self._error(err, spec, req, request_id)
        except Exception:
            log.exception("internal failure in request %s", request_id)
            return self._error(internal_failure(request_id), spec, req, request_id)

    @staticmethod
    def _parse(spec: ServiceSpec, operation: str, req: HttpRequest) -> dict[str, Any]:
        if spec.protocol == "json":
            return parse_json_request(spec, operation, req.body)
        params = query_parameters(req.method, req.headers, req.body, req.query)
        return parse_query_request(spec, operation, params)

    @staticmethod
    def _success(
        spec: ServiceSpec, operation: str, result: dict[str, Any], request_id: str
    ) -> HttpResponse:
        if spec.protocol == "json":
            body = serialize_json_response(spec, operation, result)
            content_type = spec.json_content_type
        else:
            body = serialize_query_response(spec, operation, result, request_id)
            content_type = _XML_CONTENT_TYPE
        return HttpResponse(
            200, body, [("content-type", content_type), ("x-amzn-requestid", request_id)]
        )

    @staticmethod
    def _error(
        err: ServiceError, spec: ServiceSpec | None, req: HttpRequest, request_id: str
    ) -> HttpResponse:
        protocol = spec.protocol if spec is not None else _guess_protocol(req)
        if protocol == "json":
            json_version = spec.json_version if spec is not None else "1.1"
            status, headers, body = serialize_json_error(err, json_version=json_version)
        else:
            status, headers, body = serialize_query_error(err, request_id, spec=spec)
        headers = [*headers, *err.headers.items(), ("x-amzn-requestid", request_id)]
        return HttpResponse(status, body, headers)


def _guess_protocol(req: HttpRequest) -> str:
    """Before routing succeeds we only know the protocol from the request's shape."""
    return "json" if "x-amz-target" in req.headers else "query"
