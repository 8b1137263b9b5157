"""The coalescing transport under uvicorn: one write per loop turn."""

from __future__ import annotations

import asyncio
from typing import Any

from strongroom.gateway.http_protocol import CoalescingTransport


class _Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5)}.get(name, default)


async def _turn() -> None:
    await asyncio.sleep(0)


def test_writes_of_one_turn_leave_in_one_write() -> None:
    async def scenario() -> _Recorder:
        real = _Recorder()
        transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        transport.write(b"ok")
        assert real.writes == []  # nothing before the turn ends
        await _turn()
        transport.write(b"next")
        await _turn()
        return real

    real = asyncio.run(scenario())
    assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", b"next"]


def test_close_flushes_first_and_other_calls_reach_the_real_transport() -> None:
    async def scenario() -> _Recorder:
        real = _Recorder()
        transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(bytearray(b"bye"))
        assert transport.get_extra_info("peername") == ("127.0.0.1", 5)
        transport.close()
        assert real.writes == [b"bye"] and real.closed
        await _turn()  # the scheduled flush finds nothing left
        return real

    assert asyncio.run(scenario()).writes == [b"bye"]


def test_nothing_is_written_to_a_closing_transport() -> None:
    async def scenario() -> _Recorder:
        real = _Recorder()
        transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"late")
        real.closing = True
        await _turn()
        return real

    assert asyncio.run(scenario()).writes == []
