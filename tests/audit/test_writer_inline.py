"""The inline audit writer: one append per loop turn, failures fail the batch."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from strongroom.audit.log import AuditRow, RowKind
from strongroom.audit.trail import PlainSealer
from strongroom.audit.writer_inline import InlineWriter


class _Log:
    def __init__(self, fail: bool = False) -> None:
        self.appends: list[list[AuditRow]] = []
        self.fail = fail
        self.busy = 0  # answer "busy" this many times first

    def append(self, rows: Sequence[AuditRow], recorded_at_us: int) -> None:
        if self.fail:
            raise OSError("disk full")
        self.appends.append([dataclasses.replace(r) for r in rows])

    def try_append(self, rows: Sequence[AuditRow], recorded_at_us: int) -> bool | None:
        if self.busy:
            self.busy -= 1
            return None
        self.append(rows, recorded_at_us)
        return True


class _Sealer(PlainSealer):
    def seal(self, path: str, plaintext: bytes) -> bytes:
        return path.encode() + b"|" + plaintext


def _row(n: int) -> AuditRow:
    return AuditRow(RowKind.EVENT, f"e{n}", "000000000000", "us-east-1", n, True, (), b"{}", None)


def test_requests_of_one_turn_share_one_sealed_append() -> None:
    log = _Log()
    writer = InlineWriter(log, _Sealer())  # type: ignore[arg-type]

    async def scenario() -> list[bool]:
        first = [writer.submit([_row(n)]) for n in range(3)]
        results = list(await asyncio.gather(*first))
        results.append(await writer.submit([_row(3), _row(4)]))
        return results

    assert asyncio.run(scenario()) == [True, True, True, True]
    assert [[r.event_id for r in batch] for batch in log.appends] == [
        ["e0", "e1", "e2"],
        ["e3", "e4"],
    ]
    assert log.appends[0][0].body == b"audit/e0|{}"
    assert (writer.batches, writer.rows) == (2, 5)


def test_a_failed_append_fails_every_request_in_the_batch() -> None:
    writer = InlineWriter(_Log(fail=True), PlainSealer())  # type: ignore[arg-type]

    async def scenario() -> list[bool]:
        return list(await asyncio.gather(*(writer.submit([_row(n)]) for n in range(2))))

    assert asyncio.run(scenario()) == [False, False]
    assert writer.batches == 0


def test_close_fails_requests_still_waiting() -> None:
    writer = InlineWriter(_Log(), PlainSealer())  # type: ignore[arg-type]

    async def scenario() -> bool:
        pending = writer.submit([_row(1)])
        writer.close()
        return await pending

    assert asyncio.run(scenario()) is False


def test_a_busy_log_is_tried_again_with_what_arrived_meanwhile() -> None:
    log = _Log()
    log.busy = 2
    writer = InlineWriter(log, _Sealer())  # type: ignore[arg-type]

    async def scenario() -> list[bool]:
        first = writer.submit([_row(1)])
        await asyncio.sleep(0)  # the first attempt finds the log busy
        second = writer.submit([_row(2)])
        return list(await asyncio.gather(first, second))

    assert asyncio.run(scenario()) == [True, True]
    assert [[r.event_id for r in batch] for batch in log.appends] == [["e1", "e2"]]
    # Sealed exactly once, however many attempts it took.
    assert [r.body for r in log.appends[0]] == [b"audit/e1|{}", b"audit/e2|{}"]


def test_a_log_that_stays_locked_fails_the_batch_after_the_timeout() -> None:
    log = _Log()
    log.busy = 10**9
    writer = InlineWriter(log, PlainSealer(), timeout=0.05)  # type: ignore[arg-type]

    async def scenario() -> bool:
        return await writer.submit([_row(1)])

    assert asyncio.run(scenario()) is False
    assert log.appends == []
