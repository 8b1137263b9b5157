"""The server's HTTP/1.1 protocol, on a recording transport and a stub gateway.

Live-server tests (tests/integration, tests/audit/test_tls_details.py) run
every AWS call through this protocol; these pin down the connection
handling: keep-alive, pipelining, 100-continue, oversized bodies, malformed
requests, HTTP/1.0, HEAD, idle timeouts, shutdown, flow control.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from uvicorn.server import ServerState

from strongroom.config import Settings
from strongroom.gateway.asgi import Gateway
from strongroom.gateway.http_server import GatewayHttpProtocol, find_gateway
from strongroom.gateway.pipeline import Reply
from strongroom.gateway.request import HttpRequest, HttpResponse


class StubGateway(Gateway):
    """Answers with what it was asked; records every request."""

    def __init__(self, settings: Settings, delay: float = 0.0) -> None:
        super().__init__(settings)
        self.seen: list[HttpRequest] = []
        self.refused: list[HttpRequest] = []
        self.delay = delay
        self.headers: list[tuple[str, str]] = []
        self.fail = False

    def serve(self, req: HttpRequest, reply: Reply) -> None:
        self.seen.append(req)
        if self.fail:
            raise RuntimeError("boom")
        body = f"{req.method} {req.path}?{req.query} {len(req.body)}".encode()
        response = HttpResponse(200, body, [("content-type", "text/plain"), *self.headers])
        if self.delay:
            asyncio.get_running_loop().call_later(self.delay, reply, response)
        else:
            reply(response)  # at once, as with the audit trail off

    def refuse_oversized(self, req: HttpRequest, reply: Reply) -> None:
        self.refused.append(req)
        asyncio.get_running_loop().call_soon(
            reply, HttpResponse(413, b"too big", [("connection", "close")])
        )


class Transport:
    def __init__(self, loop: asyncio.AbstractEventLoop, peer: str = "10.0.0.5") -> None:
        self.loop = loop
        self.peer = peer
        self.out = bytearray()
        self.closed = False
        self.reading = True
        self.protocol: GatewayHttpProtocol | None = None

    def write(self, data: bytes) -> None:
        assert not self.closed, "write after close"
        self.out += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            assert self.protocol is not None
            self.loop.call_soon(self.protocol.connection_lost, None)

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": (self.peer, 40000)}.get(name, default)


Scenario = Callable[[GatewayHttpProtocol, Transport, StubGateway], Awaitable[None]]


def run(
    scenario: Scenario,
    *,
    keep_alive: float = 5.0,
    delay: float = 0.0,
    peer: str = "10.0.0.5",
    **settings: Any,
) -> tuple[Transport, StubGateway, ServerState]:
    async def main() -> tuple[Transport, StubGateway, ServerState]:
        loop = asyncio.get_running_loop()
        gateway = StubGateway(Settings(**{"max_body_bytes": 100, **settings}), delay)
        state = ServerState()
        state.default_headers = [(b"date", b"Sun, 29 Nov 2026 12:00:00 GMT")]
        config = SimpleNamespace(loaded=True, loaded_app=gateway, timeout_keep_alive=keep_alive)
        protocol = GatewayHttpProtocol(config, state, {}, loop)
        transport = Transport(loop, peer)
        transport.protocol = protocol
        protocol.connection_made(transport)  # type: ignore[arg-type]
        await scenario(protocol, transport, gateway)
        return transport, gateway, state

    return asyncio.run(main())


async def settle(turns: int = 5) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)


def responses(out: bytes) -> list[bytes]:
    """Status lines of the responses in ``out``, in order."""
    return re.findall(rb"HTTP/1\.1 \d{3}[^\r]*", out)


GET = b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"


def test_a_keep_alive_connection_serves_request_after_request() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(GET)
        await settle()
        p.data_received(b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc")
        await settle()

    t, g, state = run(scenario)
    assert [r.path for r in g.seen] == ["/a", "/b"]
    assert g.seen[0].query == "x=1" and g.seen[1].body == b"abc"
    assert responses(bytes(t.out)) == [b"HTTP/1.1 200 OK"] * 2
    assert b"GET /a?x=1 0" in t.out and b"POST /b? 3" in t.out
    assert not t.closed and state.total_requests == 2


def test_a_response_is_one_write_with_length_date_and_headers() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        g.headers = [("x-amzn-requestid", "r-1")]
        p.data_received(GET)
        await settle()

    t, _, _ = run(scenario)
    head, _, body = bytes(t.out).partition(b"\r\n\r\n")
    assert body == b"GET /a?x=1 0"
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 200 OK"
    assert set(lines[1:]) == {
        b"content-length: 12",
        b"date: Sun, 29 Nov 2026 12:00:00 GMT",
        b"content-type: text/plain",
        b"x-amzn-requestid: r-1",
    }


def test_headers_arrive_lower_cased_with_repeats_joined() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(b"GET /%7Ex HTTP/1.1\r\nX-Thing: a\r\nx-thing: b\r\nHOST: h\r\n\r\n")
        await settle()

    _, g, _ = run(scenario)
    [req] = g.seen
    assert req.headers == {"x-thing": "a,b", "host": "h"}
    assert req.path == "/%7Ex"  # still encoded: SigV4 signs the encoded form
    assert req.client_ip == "10.0.0.5" and not req.secure


def test_pipelined_requests_are_answered_in_order() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(GET + b"GET /second HTTP/1.1\r\n\r\n" + b"GET /third HTTP/1.1\r\n\r\n")
        await asyncio.sleep(0.1)

    t, g, _ = run(scenario, delay=0.01)
    assert [r.path for r in g.seen] == ["/a", "/second", "/third"]
    out = bytes(t.out)
    assert out.index(b"GET /a?x=1") < out.index(b"GET /second") < out.index(b"GET /third")


def test_a_long_pipeline_pauses_reading_until_it_drains() -> None:
    paused: list[bool] = []

    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(GET * 12)
        paused.append(not t.reading)
        await asyncio.sleep(0.2)

    t, g, _ = run(scenario, delay=0.001)
    assert paused == [True] and t.reading
    assert len(g.seen) == 12 and len(responses(bytes(t.out))) == 12


def test_expect_100_continue_is_answered_before_the_body() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(b"POST / HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        assert bytes(t.out) == b"HTTP/1.1 100 Continue\r\n\r\n"
        p.data_received(b"ok")
        await settle()

    t, g, _ = run(scenario)
    assert g.seen[0].body == b"ok"
    assert responses(bytes(t.out)) == [b"HTTP/1.1 100 Continue", b"HTTP/1.1 200 OK"]


def test_an_oversized_declared_body_is_refused_without_continue() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(b"POST / HTTP/1.1\r\nContent-Length: 101\r\nExpect: 100-continue\r\n\r\n")
        assert bytes(t.out) == b""  # no 100 Continue for a body we will not take
        p.data_received(b"x" * 101)
        await settle()

    t, g, _ = run(scenario)
    assert g.seen == [] and len(g.refused) == 1 and g.refused[0].body == b""
    assert responses(bytes(t.out)) == [b"HTTP/1.1 413 Request Entity Too Large"]
    assert t.closed


def test_an_oversized_chunked_body_is_refused() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        chunk = b"64\r\n" + b"y" * 100 + b"\r\n"
        p.data_received(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 2)
        p.data_received(b"0\r\n\r\n")
        await settle()

    t, g, _ = run(scenario)
    assert g.seen == [] and len(g.refused) == 1
    assert t.closed and b"too big" in t.out


def test_a_chunked_body_within_the_limit_is_served() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        p.data_received(b"2\r\nde\r\n0\r\n\r\n")
        await settle()

    _, g, _ = run(scenario)
    assert g.seen[0].body == b"abcde"


def test_an_endless_oversized_body_is_answered_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("strongroom.gateway.http_server.DRAIN_LIMIT", 1000)

    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(b"POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n")
        for _ in range(3):
            p.data_received(b"z" * 400)
        assert not t.reading  # nothing more is read
        await settle()

    t, g, _ = run(scenario)
    assert len(g.refused) == 1 and t.closed


def test_a_malformed_request_gets_400_and_the_connection_closes() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(b"NOT HTTP AT ALL\r\n\r\n")
        await settle()

    t, g, _ = run(scenario)
    assert g.seen == []
    assert responses(bytes(t.out)) == [b"HTTP/1.1 400 Bad Request"] and t.closed
    assert b"connection: close" in t.out


def test_an_upgrade_request_is_refused() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        await settle()

    t, g, _ = run(scenario)
    assert g.seen == [] and t.closed
    assert b"upgrades are not supported" in t.out


def test_http_1_0_and_connection_close_end_the_connection() -> None:
    for request in (b"GET / HTTP/1.0\r\n\r\n", b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"):

        async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
            p.data_received(request)  # noqa: B023
            await settle()

        t, g, _ = run(scenario)
        assert len(g.seen) == 1 and t.closed
        assert b"connection: close\r\n" in t.out


def test_head_gets_the_length_but_no_body() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(b"HEAD /h HTTP/1.1\r\n\r\n")
        await settle()

    t, _, _ = run(scenario)
    assert bytes(t.out).endswith(b"\r\n\r\n") and b"content-length: 10\r\n" in t.out


def test_an_idle_connection_closes_after_the_keep_alive_timeout() -> None:
    open_while_busy: list[bool] = []

    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(GET)
        await asyncio.sleep(0.15)  # served slowly: longer than the timeout
        open_while_busy.append(not t.closed)
        await asyncio.sleep(0.25)

    t, _, _ = run(scenario, keep_alive=0.1, delay=0.12)
    assert open_while_busy == [True]
    assert len(responses(bytes(t.out))) == 1 and t.closed


def test_a_connection_that_never_sends_a_request_is_closed() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        await asyncio.sleep(0.15)

    t, _, state = run(scenario, keep_alive=0.05)
    assert t.closed and not state.connections


def test_shutdown_finishes_the_request_under_way_then_closes() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(GET + GET)
        await asyncio.sleep(0)
        p.shutdown()
        assert not t.closed
        await asyncio.sleep(0.05)

    t, g, _ = run(scenario, delay=0.01)
    assert len(g.seen) == 1  # the pipelined second request is not started
    assert responses(bytes(t.out)) == [b"HTTP/1.1 200 OK"] and t.closed


def test_shutdown_of_an_idle_connection_closes_it_now() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.shutdown()
        assert t.closed

    run(scenario)


def test_a_lost_connection_gets_no_write() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(GET)
        t.close()
        await asyncio.sleep(0.05)

    t, g, state = run(scenario, delay=0.01)
    assert len(g.seen) == 1 and t.out == b"" and not state.connections


def test_a_client_that_does_not_read_stops_being_read() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.pause_writing()
        assert not t.reading
        p.resume_writing()
        assert t.reading

    run(scenario)


def test_a_gateway_failure_is_a_500_and_the_connection_closes() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        g.fail = True
        p.data_received(GET)
        await settle()

    t, _, _ = run(scenario)
    assert responses(bytes(t.out)) == [b"HTTP/1.1 500 Internal Server Error"] and t.closed


def test_a_header_value_cannot_split_the_response() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        g.headers = [("x-evil", "a\r\nset-cookie: b")]
        p.data_received(GET)
        await settle()

    t, _, _ = run(scenario)
    assert b"set-cookie" not in t.out
    assert responses(bytes(t.out)) == [b"HTTP/1.1 500 Internal Server Error"]


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    request = (
        b"GET / HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6, 203.0.113.9\r\n"
        b"X-Forwarded-Proto: https\r\n\r\n"
    )

    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(request)
        await settle()

    _, g, _ = run(scenario, trusted_proxies="10.0.0.0/8")
    assert (g.seen[0].client_ip, g.seen[0].secure) == ("203.0.113.9", True)
    _, g, _ = run(scenario, trusted_proxies="10.0.0.0/8", peer="192.0.2.1")
    assert (g.seen[0].client_ip, g.seen[0].secure) == ("192.0.2.1", False)
    _, g, _ = run(scenario)  # no trusted proxies: the header is anyone's to write
    assert (g.seen[0].client_ip, g.seen[0].secure) == ("10.0.0.5", False)


def test_the_gateway_is_found_inside_middleware() -> None:
    gateway = StubGateway(Settings())
    assert find_gateway(SimpleNamespace(app=SimpleNamespace(app=gateway))) is gateway
    with pytest.raises(RuntimeError):
        find_gateway(SimpleNamespace(app=None))


def test_a_long_pipeline_answered_at_once_does_not_nest_replies() -> None:
    """Replies that come back at once (trail off) for thousands of pipelined
    requests: each next request starts in a turn of its own."""

    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(b"GET /p HTTP/1.1\r\n\r\n" * 3000)
        await asyncio.sleep(0.5)

    t, g, _ = run(scenario)
    assert len(g.seen) == 3000 and len(responses(bytes(t.out))) == 3000
    assert t.reading and not t.closed


def test_request_targets_in_every_form() -> None:
    from strongroom.gateway.http_server import _target

    assert _target(b"/") == ("/", "")
    assert _target(b"/a/b%2Fc?x=1&y=%20") == ("/a/b%2Fc", "x=1&y=%20")
    assert _target(b"http://h:80/p?q=1") == ("/p", "q=1")  # absolute form
    assert _target(b"/x#frag") == ("/x", "")
    assert _target(b"/\xff?\xfe") == ("/\udcff", "\udcfe")  # odd bytes survive exactly


def test_a_pipelined_100_continue_waits_for_the_response_before_it() -> None:
    async def scenario(p: GatewayHttpProtocol, t: Transport, g: StubGateway) -> None:
        p.data_received(GET)  # served slowly
        p.data_received(b"POST /b HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        assert t.out == b""  # no 100 Continue ahead of the first response
        await asyncio.sleep(0.05)
        p.data_received(b"ok")
        await asyncio.sleep(0.05)

    t, g, _ = run(scenario, delay=0.01)
    assert responses(bytes(t.out)) == [
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 100 Continue",
        b"HTTP/1.1 200 OK",
    ]
    assert g.seen[1].body == b"ok"
