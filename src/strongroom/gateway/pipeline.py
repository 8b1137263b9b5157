"""The ordered request steps, free of ASGI: HttpRequest in, HttpResponse out.

route -> authenticate -> parse params -> [audit request entry] -> operation
-> serialize -> [audit event] -> release the response.

This is the one place where exceptions become responses: a ServiceError is
answered in the protocol of the service that was called; anything else is
logged with its trace and answered as InternalFailure with the request id.

Every request, whatever happens to it, leaves one CloudTrail event, and no
response leaves before its event is durable (fail-closed; see
docs/design/audit.md). A call that may change state first has a request
entry made durable, so a side effect never exists without a record; if that
entry cannot be written the operation does not run. ``handle`` waits for the
audit writer by blocking (in-process callers, tests); ``serve`` hands the
response to a callback once its batch is written (the server's HTTP
protocol), and ``handle_async`` awaits it; either way the event loop serves
other requests while a batch commits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strongroom.audit.log import AuditRow
from strongroom.audit.readonly import needs_intent
from strongroom.audit.record import CallFacts, new_uuid
from strongroom.audit.writer import Done
from strongroom.auth import SigV4Claim, extract_claim
from strongroom.context import RequestContext
from strongroom.errors import (
    AuthFailure,
    ServiceError,
    auth_error,
    internal_failure,
    not_implemented,
)
from strongroom.gateway.authentication import verify_request
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
from strongroom.services.base import Handler

log = logging.getLogger("strongroom.gateway")

# Where a served request's response goes (strongroom.gateway.http_server).
Reply = Callable[[HttpResponse], None]


def awaitable_reply() -> tuple[asyncio.Future[HttpResponse], Reply]:
    """A future of the running loop and the Reply that resolves it (unless
    its waiter has given up: a cancelled future is left alone)."""
    future: asyncio.Future[HttpResponse] = asyncio.get_running_loop().create_future()

    def reply(response: HttpResponse) -> None:
        if not future.done():
            future.set_result(response)

    return future, reply


_XML_CONTENT_TYPE = "text/xml"
# A synchronous caller gives up on the audit writer after this long (the
# writer's own database timeouts normally answer well before).
_SYNC_WAIT_SECONDS = 60.0


def audit_unavailable() -> ServiceError:
    """The request entry could not be persisted: nothing was done, retry."""
    return ServiceError(
        "ServiceUnavailable",
        "The request was not processed because its audit record could not be persisted. "
        "Try again later.",
        503,
        sender_fault=False,
    )


@dataclass
class _Call:
    """One request on its way through the steps."""

    req: HttpRequest
    facts: CallFacts
    handler: Handler | None = None
    ctx: RequestContext | None = None
    needs_intent: bool = False
    note_key_use: bool = False  # a long-term key whose last use is noted once audited


class Pipeline:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    # -- entry points --------------------------------------------------------------

    def handle(self, req: HttpRequest) -> HttpResponse:
        call = self._start(req)
        trail = self.platform.audit
        if trail is None:
            return self._run(call)
        if call.needs_intent and not self._persist(call, intent=True):
            return self._refuse(call)
        response = self._run(call)
        return self._release(call, response, self._persist(call, intent=False))

    def serve(self, req: HttpRequest, reply: Reply) -> None:
        """``reply`` gets the response once it may leave: after its audit
        event is durable. No task and no future per request: the audit
        writer calls back when the request's batch is written, and the
        response is handed over right there (``handle_async`` for callers
        that would rather await). ``reply`` runs on the event loop, once."""
        call = self._start(req)
        if self.platform.audit is None:
            reply(self._run(call))
        elif call.needs_intent:
            loop = asyncio.get_running_loop()

            def after_intent(persisted: bool) -> None:
                # The operation runs in a turn of its own, not inside the
                # writer's callback that answers every request of the batch.
                loop.call_soon(self._after_intent, call, persisted, reply)

            self._persist_then(call, True, after_intent)
        else:
            self._run_and_record(call, reply)

    def _after_intent(self, call: _Call, persisted: bool, reply: Reply) -> None:
        if persisted:
            self._run_and_record(call, reply)
        else:
            reply(self._refuse(call))

    def _run_and_record(self, call: _Call, reply: Reply) -> None:
        response = self._run(call)
        self._persist_then(call, False, lambda ok: reply(self._release(call, response, ok)))

    async def handle_async(self, req: HttpRequest) -> HttpResponse:
        """:meth:`serve`, awaited."""
        answered, reply = awaitable_reply()
        self.serve(req, reply)
        return await answered

    def refuse(
        self, req: HttpRequest, err: ServiceError, response: HttpResponse, reply: Reply
    ) -> None:
        """Record a request the HTTP layer refused before the pipeline (an
        oversized body: ``req`` has no body) and release its ``response``
        to ``reply``, as :meth:`serve` does."""
        call = _Call(req, self._facts(req))
        facts = call.facts
        facts.error = err
        facts.attempted_operation = _attempted_operation(req)
        try:
            claim = extract_claim(req.method, req.path, req.query, req.headers)
        except AuthFailure:
            claim = None
        if claim is not None:
            facts.claim_region, facts.claim_service = claim.region, claim.service
            facts.access_key_id = claim.access_key_id
            self._note_key_owner(facts)
        response.headers.append(("x-amzn-requestid", facts.request_id))
        if self.platform.audit is None:
            reply(response)
            return

        def release(ok: bool) -> None:
            released = self._release(call, response, ok)
            if ("connection", "close") not in released.headers:
                released.headers.append(("connection", "close"))  # the body was not read
            reply(released)

        self._persist_then(call, False, release)

    # -- steps -----------------------------------------------------------------------

    def _facts(self, req: HttpRequest) -> CallFacts:
        settings = self.platform.settings
        # Positional, the first eight fields in their order: keyword
        # arguments make a dataclass __init__ several times dearer.
        return CallFacts(
            new_uuid(),  # request_id
            self.platform.clock(),  # event_time
            settings.default_account_id,  # default_account
            settings.region,  # default_region
            req.client_ip,  # source_ip
            req.headers.get("user-agent", ""),  # user_agent
            req.headers.get("host", ""),  # host
            _tls_details(req),  # tls
        )

    def _start(self, req: HttpRequest) -> _Call:
        """Route, authenticate and parse; a failure is kept in ``facts.error``."""
        facts = self._facts(req)
        call = _Call(req, facts)
        try:
            self._prepare(call)
        except ServiceError as err:
            facts.error = err
        except Exception:
            log.exception("internal failure in request %s", facts.request_id)
            facts.error = internal_failure(facts.request_id)
        return call

    def _prepare(self, call: _Call) -> None:
        req, facts = call.req, call.facts
        claim: SigV4Claim | None = None
        auth_failure: AuthFailure | None = None
        try:
            claim = extract_claim(req.method, req.path, req.query, req.headers)
        except AuthFailure as failure:
            auth_failure = failure
        if claim is not None:
            facts.claim_region = claim.region
            facts.claim_service = claim.service
            facts.access_key_id = claim.access_key_id
        try:
            spec, operation = route(
                req.method,
                req.path,
                req.headers,
                req.body,
                req.query,
                claim.service if claim else None,
            )
        except ServiceError:
            facts.attempted_operation = _attempted_operation(req)
            self._note_key_owner(facts)
            raise
        facts.spec, facts.operation = spec, operation
        if auth_failure is not None or claim is None:
            assert auth_failure is not None
            raise auth_error(auth_failure, spec.protocol)
        try:
            principal, long_term = verify_request(
                self.platform, claim, req, facts.event_time, spec.signing_name
            )
        except AuthFailure as failure:
            self._note_key_owner(facts)
            raise auth_error(failure, spec.protocol) from None
        facts.principal = principal
        call.note_key_use = long_term
        facts.params = self._parse(spec, operation, req)
        service = self.platform.services.get(spec.name)
        call.handler = service.handler(operation) if service is not None else None
        if call.handler is None:
            raise not_implemented(spec.name, operation)
        # Positional, in field order: a dataclass __init__ given keywords
        # costs several times as much, and every request builds one.
        call.ctx = RequestContext(
            facts.request_id,
            claim.region,
            principal,
            facts.event_time,
            self.platform,
            spec.name,  # service
            operation,
            req.client_ip,  # source_ip
            facts.user_agent,
            req.secure,  # secure_transport
            facts.audit,
        )
        extra: frozenset[str] = getattr(service, "audit_writes", frozenset())
        call.needs_intent = needs_intent(spec.signing_name, operation, extra)

    def _run(self, call: _Call) -> HttpResponse:
        """Run the operation (when the request got that far) and serialize."""
        facts = call.facts
        if facts.error is None and call.handler is not None and call.ctx is not None:
            try:
                facts.result = call.handler(call.ctx, facts.params or {})
            except ServiceError as err:
                facts.error = err
            except Exception:
                log.exception("internal failure in request %s", facts.request_id)
                facts.error = internal_failure(facts.request_id)
        if facts.error is None and facts.spec is not None and facts.operation is not None:
            try:
                return self._success(
                    facts.spec, facts.operation, facts.result or {}, facts.request_id
                )
            except Exception:
                log.exception("internal failure in request %s", facts.request_id)
                facts.error = internal_failure(facts.request_id)
        assert facts.error is not None
        return self._error(facts.error, facts.spec, call.req, facts.request_id)

    def _rows(self, call: _Call, *, intent: bool, seal: bool = True) -> list[AuditRow] | None:
        """The request entry or the event; None when it cannot even be built
        (a bug), which fails the request like a failed write would."""
        trail = self.platform.audit
        assert trail is not None
        try:
            if intent:
                return trail.intent_rows(call.facts, seal=seal)
            return trail.event_rows(call.facts, completes_intent=call.needs_intent, seal=seal)
        except Exception:
            log.exception("audit record of request %s could not be built", call.facts.request_id)
            return None

    def _persist(self, call: _Call, *, intent: bool) -> bool:
        rows = self._rows(call, intent=intent)
        if rows is None:
            return False
        assert self.platform.audit is not None
        return self.platform.audit.submit(rows).wait(_SYNC_WAIT_SECONDS)

    def _persist_then(self, call: _Call, intent: bool, done: Done) -> None:
        """Hand the request entry or event to the writer, which builds the
        rows when it takes the batch (strongroom.audit.writer_inline) and
        then calls ``done``."""
        trail = self.platform.audit
        assert trail is not None
        seal = not trail.seals_in_writer
        trail.persist_then(lambda: self._rows(call, intent=intent, seal=seal), done)

    def _refuse(self, call: _Call) -> HttpResponse:
        log.error("request %s refused: audit request entry not persisted", call.facts.request_id)
        return self._error(audit_unavailable(), call.facts.spec, call.req, call.facts.request_id)

    def _release(self, call: _Call, response: HttpResponse, persisted: bool) -> HttpResponse:
        facts = call.facts
        if not persisted:
            # The operation may have run (its request entry is durable), but
            # its outcome is not recorded: the client must not get it.
            log.error(
                "response of request %s withheld: audit event not persisted", facts.request_id
            )
            return self._error(
                internal_failure(facts.request_id), facts.spec, call.req, facts.request_id
            )
        if call.note_key_use and facts.principal is not None:
            claim_service = facts.spec.signing_name if facts.spec else ""
            try:
                self.platform.identities.note_key_used(
                    facts.principal.access_key_id, claim_service, facts.region
                )
            except Exception:  # bookkeeping only: never fail an answered request
                log.exception("could not note the last use of an access key")
        return response

    def _note_key_owner(self, facts: CallFacts) -> None:
        """Whose account an unauthenticated request's event goes to: the
        owner of the key it presented, when that key exists."""
        akid = facts.access_key_id
        if not akid or self.platform.settings.dev:
            return
        try:
            cred = self.platform.identities.lookup_access_key(akid)
        except Exception:
            return
        if cred is not None:
            facts.key_account = cred.principal.account_id

    # -- protocol ----------------------------------------------------------------------

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


def _attempted_operation(req: HttpRequest) -> str | None:
    """The operation a request that failed to route asked for, if it says."""
    target = req.headers.get("x-amz-target")
    if target is not None:
        return target.rpartition(".")[2] or None
    try:
        form = query_parameters(req.method, req.headers, req.body, req.query)
    except ServiceError:
        return None
    actions = form.get("Action")
    return actions[0] if actions else None


def _tls_details(req: HttpRequest) -> dict[str, str] | None:
    if not req.secure:
        return None
    details: dict[str, str] = {}
    if req.tls_version:
        details["tlsVersion"] = req.tls_version
    if req.cipher_suite:
        details["cipherSuite"] = req.cipher_suite
    host = req.headers.get("host")
    if host:
        details["clientProvidedHostHeader"] = host[:256]
    return details
