"""The server's HTTP/1.1 protocol: httptools parsing straight into the gateway.

uvicorn's own protocols turn every request into an ASGI scope and a series
of messages (``http.request``, ``http.response.start``,
``http.response.body``), each a dict, an awaitable and a round of checks,
which the gateway then turned back into an :class:`HttpRequest`. Under load
those layers took ~28 % of an audited server's samples; with this protocol
the server's CPU per GetSecretValue fell from 511 to 477 µs
(docs/benchmarks.md, session 10). This protocol is handed to uvicorn as its ``http`` class: uvicorn still owns
the listening sockets, TLS, the workers, lifespan and graceful shutdown;
this class owns what happens on one connection:

* requests are parsed by httptools, with their headers gathered as the
  gateway wants them (lower-case names, repeated headers joined with ",");
* one request is served at a time; pipelined ones wait, in order, with
  reading paused;
* a response is written with one ``write`` (status line, headers, body);
* ``Expect: 100-continue`` is answered before the body is read (after the
  response to the request before it, when pipelined), unless the declared
  body is over the limit, which is refused with 413 (and recorded) without
  reading more than ``DRAIN_LIMIT`` of it;
* an idle connection is closed after uvicorn's keep-alive timeout (one
  timer per connection, re-armed only when it fires);
* ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only from the
  configured trusted proxies (:mod:`strongroom.gateway.forwarded`);
* over TLS, the negotiated version and cipher go into the request for the
  audit trail's ``tlsDetails``.

The ASGI application (:mod:`strongroom.gateway.asgi`) stays, for other ASGI
servers; both end in the same :class:`Gateway` methods.
"""

from __future__ import annotations

import asyncio
import functools
import http
import logging
import ssl
from collections import deque
from typing import Any, cast

import httptools

from strongroom.gateway.asgi import DRAIN_LIMIT, Gateway
from strongroom.gateway.forwarded import TrustedProxies
from strongroom.gateway.request import HttpRequest, HttpResponse

log = logging.getLogger("strongroom.gateway")

# Pipelined requests a connection may queue before reading pauses.
_MAX_QUEUED = 8


def _status_line(code: int) -> bytes:
    try:
        phrase = http.HTTPStatus(code).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {code} {phrase}\r\n".encode("latin-1")


_STATUS_LINES = {code: _status_line(code) for code in range(100, 600)}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _plain_response(status: int, text: str) -> bytes:
    body = text.encode()
    return (
        _STATUS_LINES[status]
        + b"content-type: text/plain; charset=utf-8\r\n"
        + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)
        + body
    )


_METHODS = {m.encode(): m for m in ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH")}


def _target(url: bytes) -> tuple[str, str]:
    """(path, query) of a request target, still percent-encoded (SigV4 signs
    the encoded form; surrogateescape keeps odd bytes exactly)."""
    if url[:1] == b"/" and b"#" not in url:  # origin form: nearly every request
        path, _, query = url.partition(b"?")
    else:  # absolute form, fragments, garbage
        try:
            parsed = httptools.parse_url(url)
        except httptools.HttpParserInvalidURLError:
            return url.decode("latin-1"), ""
        path, query = parsed.path or b"", parsed.query or b""
    return path.decode("utf-8", "surrogateescape"), query.decode("utf-8", "surrogateescape")


def find_gateway(app: Any) -> Gateway:
    """The Gateway inside uvicorn's loaded application (which wraps it in
    middleware only for options ``strongroom server`` does not use)."""
    seen = 0
    while not isinstance(app, Gateway):
        app = getattr(app, "app", None)
        seen += 1
        if app is None or seen > 8:
            raise RuntimeError("the HTTP protocol serves only the Strongroom gateway")
    return app


class _Pending:
    """A request parsed and waiting for (or in) service."""

    __slots__ = ("head", "keep_alive", "oversized", "request")

    def __init__(self, request: HttpRequest, keep_alive: bool, head: bool, oversized: bool):
        self.request = request
        self.keep_alive = keep_alive
        self.head = head
        self.oversized = oversized


class GatewayHttpProtocol(asyncio.Protocol):
    """One client connection (uvicorn's ``http`` protocol class interface)."""

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any] | None = None,
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self.gateway = find_gateway(config.loaded_app)
        settings = self.gateway.settings
        self.max_body = settings.max_body_bytes
        self.proxies = TrustedProxies.parse(settings.trusted_proxies)
        self.loop = _loop or asyncio.get_event_loop()
        self.server_state = server_state
        self.keep_alive_seconds = float(config.timeout_keep_alive)
        self.parser = httptools.HttpRequestParser(self)
        # Data after a request that asked to close the connection is left
        # unparsed instead of failing the request before it is answered.
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self.transport: asyncio.Transport | None = None
        self.peer = "127.0.0.1"
        self.secure = False
        self.tls_version = ""
        self.cipher_suite = ""
        self.queue: deque[_Pending] = deque()
        self.busy = False  # a request of this connection is being served
        self.closing = False  # no more requests: close after the current one
        self.write_paused = False
        self.reading_paused = False
        self.idle_since: float | None = None  # None: a request is under way
        self.timer: asyncio.TimerHandle | None = None
        # The message being parsed.
        self.url = b""
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.body_size = 0
        self.oversized = False
        self.dispatched = False  # an oversized message answered before its end
        # Its 100 Continue, held until the response before it is written.
        self.continue_owed = False

    # -- connection ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses.
        transport = cast("asyncio.Transport", transport)
        self.transport = transport
        self.server_state.connections.add(self)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, (tuple, list)) and peer:
            self.peer = str(peer[0])
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self.secure = True
            self.tls_version, self.cipher_suite = tls_names(ssl_object)
        self.idle_since = self.loop.time()
        self.timer = self.loop.call_later(self.keep_alive_seconds, self._check_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server_state.connections.discard(self)
        self.closing = True
        self.queue.clear()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def eof_received(self) -> bool | None:
        return None  # the transport closes itself

    def pause_writing(self) -> None:
        # The client is not reading its responses: stop reading its requests.
        self.write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._update_reading()

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: finish the request under way, then close."""
        self.closing = True
        self.queue.clear()
        if not self.busy and self.transport is not None:
            self.transport.close()

    def _update_reading(self) -> None:
        pause = self.write_paused or len(self.queue) >= _MAX_QUEUED or self.dispatched
        if pause == self.reading_paused or self.transport is None:
            return
        if self.transport.is_closing():
            return
        self.reading_paused = pause
        if pause:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()

    def _check_idle(self) -> None:
        """Close a connection idle for the keep-alive timeout; otherwise
        look again when it could next have been idle that long."""
        self.timer = None
        if self.transport is None or self.transport.is_closing():
            return
        now = self.loop.time()
        idle_since = self.idle_since
        if idle_since is not None and now - idle_since >= self.keep_alive_seconds:
            self.transport.close()
            return
        wait = self.keep_alive_seconds - (0 if idle_since is None else now - idle_since)
        self.timer = self.loop.call_later(wait, self._check_idle)

    # -- parsing ---------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self.idle_since = None
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400, "Protocol upgrades are not supported.")
        except httptools.HttpParserError:
            self._fail(400, "Invalid HTTP request received.")

    def _fail(self, status: int, message: str) -> None:
        """A request that cannot be parsed: answer it and close."""
        transport = self.transport
        if transport is not None and not transport.is_closing():
            if not self.busy:
                transport.write(_plain_response(status, message))
            transport.close()
        self.closing = True

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = {}
        self.body = []
        self.body_size = 0
        self.oversized = False
        self.dispatched = False
        self.continue_owed = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers = self.headers
        headers[key] = f"{headers[key]},{text}" if key in headers else text

    def on_headers_complete(self) -> None:
        declared = self.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            self.oversized = True
        elif self.headers.get("expect", "").lower() == "100-continue" and self.transport:
            if self.busy:
                self.continue_owed = True  # not ahead of the response being made
            else:
                self.transport.write(_CONTINUE)

    def on_body(self, body: bytes) -> None:
        self.continue_owed = False  # the client sends its body anyway
        self.body_size += len(body)
        if self.dispatched:
            return
        if not self.oversized and self.body_size > self.max_body:
            self.oversized = True
            self.body = []
        if self.oversized:
            if self.body_size > DRAIN_LIMIT:
                # Answer now; the rest of the body is never read.
                self.dispatched = True
                self._dispatch(self._pending(b""))
                self._update_reading()
            return
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.continue_owed = False
        if self.dispatched or self.parser.should_upgrade():
            return  # answered already; an upgrade is refused (data_received)
        body = b"" if self.oversized else b"".join(self.body)
        self.body = []
        self._dispatch(self._pending(body))

    def _pending(self, body: bytes) -> _Pending:
        parser = self.parser
        raw_method = parser.get_method()
        method = _METHODS.get(raw_method) or raw_method.decode("ascii")
        path, query = _target(self.url)
        headers = self.headers
        client_ip, secure = self.peer, self.secure
        if self.proxies is not None:
            client_ip, secure = self.proxies.resolve(client_ip, secure, headers)
        request = HttpRequest(
            method,
            path,
            query,
            headers,
            body,
            client_ip,
            secure,
            self.tls_version,
            self.cipher_suite,
        )
        keep_alive = (
            not self.closing
            and not self.oversized
            and parser.get_http_version() == "1.1"
            and parser.should_keep_alive()
        )
        return _Pending(request, keep_alive, method == "HEAD", self.oversized)

    # -- serving ---------------------------------------------------------------

    def _dispatch(self, pending: _Pending) -> None:
        if self.closing:
            return
        if self.busy:
            self.queue.append(pending)
            self._update_reading()
            return
        self._serve(pending)

    def _serve(self, pending: _Pending) -> None:
        """Hand the request to the gateway, which calls back with its
        response once the response may leave (no task per request)."""
        self.busy = True
        reply = functools.partial(self._reply, pending)
        try:
            if pending.oversized:
                self.gateway.refuse_oversized(pending.request, reply)
            else:
                self.gateway.serve(pending.request, reply)
        except Exception:
            log.exception("internal failure serving a request")
            if self.busy:  # not answered before it failed
                self._finish(_plain_response(500, "Internal Server Error"), False)

    def _serve_next(self) -> None:
        if self.queue and not self.busy and not self.closing:
            self._serve(self.queue.popleft())
            self._update_reading()

    def _reply(self, pending: _Pending, response: HttpResponse) -> None:
        try:
            data = self._encode(response, pending)
        except Exception:
            log.exception("internal failure writing a response")
            data = _plain_response(500, "Internal Server Error")
            pending.keep_alive = False
        self._finish(data, pending.keep_alive)

    def _encode(self, response: HttpResponse, pending: _Pending) -> bytes:
        body = response.body
        lines = [f"content-length: {len(body)}\r\n"]
        for name, value in response.headers:
            # Names are ours; a value must not end the header or the response.
            if "\n" in value or "\r" in value:
                raise ValueError(f"response header {name!r} spans lines")
            if name == "connection" and value == "close":
                pending.keep_alive = False
            lines.append(f"{name}: {value}\r\n")
        if not pending.keep_alive and ("connection", "close") not in response.headers:
            lines.append("connection: close\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        parts = [_STATUS_LINES[response.status]]
        parts += [b"%s: %s\r\n" % header for header in self.server_state.default_headers]
        parts.append(head)
        if not pending.head:
            parts.append(body)
        return b"".join(parts)

    def _finish(self, data: bytes, keep_alive: bool) -> None:
        self.busy = False
        self.server_state.total_requests += 1
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(data)
        if not keep_alive or self.closing:
            self.closing = True
            self.queue.clear()
            transport.close()
            return
        if self.continue_owed:
            self.continue_owed = False
            transport.write(_CONTINUE)
        if self.queue:
            # A turn of its own: answering a long pipeline must not nest
            # one reply inside the other.
            self.loop.call_soon(self._serve_next)
        else:
            self.idle_since = self.loop.time()
            self._update_reading()


def tls_names(ssl_object: ssl.SSLObject) -> tuple[str, str]:
    """The TLS version and cipher suite as CloudTrail names them
    (OpenSSL's names: ``TLSv1.3``, ``TLS_AES_128_GCM_SHA256``)."""
    try:
        version = ssl_object.version() or ""
        cipher = ssl_object.cipher()
    except (ssl.SSLError, ValueError):
        return "", ""
    return version, cipher[0] if cipher else ""
