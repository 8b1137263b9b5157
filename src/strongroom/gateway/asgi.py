"""The gateway: one request's HttpRequest to its HttpResponse, and the ASGI
application around it.

``strongroom server`` does not go through ASGI: its HTTP protocol
(gateway/http_server.py) calls :meth:`Gateway.serve` directly. The ASGI
callable is for running the same gateway under another ASGI server
(``create_app`` is the factory). A raw callable rather than a framework:
every microsecond per request shows in throughput, and the only routing we
need is "admin path or AWS request".
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from strongroom.config import Settings, settings_from_env
from strongroom.errors import ServiceError
from strongroom.gateway.admin import ADMIN_PREFIX, handle_admin
from strongroom.gateway.pipeline import Pipeline, Reply, awaitable_reply
from strongroom.gateway.request import HttpRequest, HttpResponse
from strongroom.platform import Platform
from strongroom.protocol.router import warm_up

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("strongroom.gateway")


class BodyTooLarge(Exception):
    pass


class Gateway:
    def __init__(self, settings: Settings, platform: Platform | None = None) -> None:
        self.settings = settings
        self._platform = platform
        self._pipeline = Pipeline(platform) if platform is not None else None

    @property
    def platform(self) -> Platform:
        if self._platform is None:
            from strongroom.bootstrap import open_platform

            self._platform = open_platform(self.settings)
            self._pipeline = Pipeline(self._platform)
        return self._platform

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    warm_up()  # no client request pays for loading the models
                    self.platform.jobs.start()
                    if self.platform.audit is not None:
                        self.platform.audit.start()  # the audit writer process
                except Exception as exc:  # refuse to serve rather than serve broken
                    log.error("startup failed: %s", exc)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._platform is not None:
                    self._platform.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def serve(self, req: HttpRequest, reply: Reply) -> None:
        """Answer one request (the admin endpoints or an AWS call) through
        ``reply``, once its audit event is durable (Pipeline.serve)."""
        platform = self.platform
        if req.path.startswith(ADMIN_PREFIX):
            reply(handle_admin(platform, req.method, req.path))
            return
        assert self._pipeline is not None
        self._pipeline.serve(req, reply)

    def refuse_oversized(self, req: HttpRequest, reply: Reply) -> None:
        """The 413 for a request whose body is over the limit (``req`` has no
        body), recorded like any other request; the connection then closes."""
        limit = self.platform.settings.max_body_bytes
        err = ServiceError(
            "RequestEntityTooLarge", f"Request body exceeds the limit of {limit} bytes", 413
        )
        response = _plain_error(err)
        response.headers.append(("connection", "close"))
        assert self._pipeline is not None
        self._pipeline.refuse(req, err, response, reply)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        path = scope.get("raw_path") or scope["path"].encode()
        # surrogateescape: odd bytes survive exactly into the SigV4 canonical form.
        path_text = (
            path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else str(path)
        )
        oversized = False
        body = b""
        if not path_text.startswith(ADMIN_PREFIX):
            try:
                body = await _read_body(receive, headers, self.settings.max_body_bytes)
            except BodyTooLarge:
                oversized = True
        client = scope.get("client")
        tls_version, cipher_suite = _tls_extension(scope)
        req = HttpRequest(
            method=scope["method"],
            path=path_text,
            query=scope.get("query_string", b"").decode("utf-8", "surrogateescape"),
            headers=headers,
            body=body,
            client_ip=client[0] if client else "127.0.0.1",
            secure=scope.get("scheme") == "https",
            tls_version=tls_version,
            cipher_suite=cipher_suite,
        )
        answered, reply = awaitable_reply()
        (self.refuse_oversized if oversized else self.serve)(req, reply)
        await _send(send, await answered)


# After refusing an oversized body we still read (and discard) up to this much
# of it, so that a client that writes its whole body before reading sees the
# 413 rather than a connection reset; past it the connection is dropped.
DRAIN_LIMIT = 64 * 1024 * 1024


async def _read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        await _drain(receive, 0)
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        more = message.get("more_body", False)
        if size > limit:
            if more:
                await _drain(receive, size)
            raise BodyTooLarge
        chunks.append(chunk)
        if not more:
            return b"".join(chunks)


async def _drain(receive: Receive, seen: int) -> None:
    while seen <= DRAIN_LIMIT:
        message = await receive()
        seen += len(message.get("body", b""))
        if not message.get("more_body", False) or message["type"] == "http.disconnect":
            return


_TLS_VERSIONS = {0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}


@functools.cache
def _cipher_names() -> dict[int, str]:
    """IANA cipher suite code -> the name CloudTrail shows: OpenSSL's
    (``ECDHE-RSA-AES128-GCM-SHA256``; TLS 1.3 suites are named as IANA
    names them, ``TLS_AES_128_GCM_SHA256``). Every suite this OpenSSL
    knows, built once per process."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_ciphers("ALL:@SECLEVEL=0")
    # OpenSSL's cipher ids are 0x0300 followed by the two IANA bytes.
    return {c["id"] & 0xFFFF: c["name"] for c in context.get_ciphers()}


def _tls_extension(scope: Scope) -> tuple[str, str]:
    """TLS version and cipher from the ASGI TLS extension, when the ASGI
    server provides it (uvicorn does not: encode/uvicorn#1118)."""
    extensions = scope.get("extensions")
    tls = extensions.get("tls") if extensions else None
    if not isinstance(tls, dict):
        return "", ""
    version, cipher = tls.get("tls_version"), tls.get("cipher_suite")
    version_name = _TLS_VERSIONS.get(version, "") if isinstance(version, int) else ""
    cipher_name = ""
    if isinstance(cipher, int):
        cipher_name = _cipher_names().get(cipher, f"0x{cipher:04X}")
    return version_name, cipher_name


def _plain_error(err: ServiceError) -> HttpResponse:
    body = json.dumps({"__type": err.code, "message": err.message}).encode()
    return HttpResponse(
        err.status, body, [("content-type", "application/json"), ("x-amzn-errortype", err.code)]
    )


async def _send(send: Send, response: HttpResponse) -> None:
    headers = [(b"content-length", str(len(response.body)).encode())]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def create_app() -> Gateway:
    """Factory for ``uvicorn --factory``: each worker process builds its own platform."""
    return Gateway(settings_from_env())
