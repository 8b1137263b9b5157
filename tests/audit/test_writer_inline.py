"""The inline audit writer: one spool write per few loop turns, failures fail the batch."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from strongroom.audit.log import AuditRow, RowKind
from strongroom.audit.sealing import PlainSealer
from strongroom.audit.spool import SpoolWriter, parse, spool_files
from strongroom.audit.writer import FLUSH_AFTER_TURNS
from strongroom.audit.writer_inline import InlineWriter


class _Spool:
    """Records each write as (rows, sync), as a SpoolWriter would persist them."""

    def __init__(self, fail: bool = False) -> None:
        self.writes: list[tuple[list[AuditRow], bool]] = []
        self.fail = fail
        self.closed = False

    def write(self, rows: Sequence[AuditRow], recorded_at_us: int, *, sync: bool) -> None:
        if self.fail:
            raise OSError("disk full")
        self.writes.append(([dataclasses.replace(r) for r in rows], sync))

    def close(self) -> None:
        self.closed = True


class _Sealer(PlainSealer):
    def seal(self, path: str, plaintext: bytes) -> bytes:
        return path.encode() + b"|" + plaintext


def _row(n: int, kind: RowKind = RowKind.EVENT) -> AuditRow:
    return AuditRow(kind, f"e{n}", "000000000000", "us-east-1", n, True, (), b"{}", None)


def later(rows: list[AuditRow]) -> Callable[[], list[AuditRow]]:
    """A request's row builder (the writer calls it when it takes the batch)."""
    return lambda: rows


def _writer(spool: object, *, sync_every_batch: bool = False) -> InlineWriter:
    return InlineWriter(spool, _Sealer(), sync_every_batch=sync_every_batch)  # type: ignore[arg-type]


def _ids(spool: _Spool) -> list[list[str]]:
    return [[r.event_id for r in rows] for rows, _ in spool.writes]


def test_requests_of_one_turn_share_one_sealed_write() -> None:
    spool = _Spool()
    writer = _writer(spool)

    async def scenario() -> list[bool]:
        # Submitted in the same turn: one batch. The later submit comes in
        # a later turn, so it is a batch of its own.
        first = [writer.submit(later([_row(n)])) for n in range(3)]
        results = list(await asyncio.gather(*first))
        results.append(await writer.submit(later([_row(3), _row(4)])))
        return results

    assert asyncio.run(scenario()) == [True, True, True, True]
    assert _ids(spool) == [["e0", "e1", "e2"], ["e3", "e4"]]
    # Sealed under the event's own path before it reaches the spool.
    assert spool.writes[0][0][0].body == b"audit/e0|{}"
    assert (writer.batches, writer.rows) == (2, 5)


def test_requests_of_the_next_turns_join_the_open_batch() -> None:
    spool = _Spool()
    writer = _writer(spool)
    turns_seen: list[int] = []

    async def scenario() -> list[bool]:
        # One request per turn: those that come before the batch's write
        # join it; the next one opens a batch of its own.
        waiting = []
        for n in range(FLUSH_AFTER_TURNS + 1):
            waiting.append(writer.submit(later([_row(n)])))
            turns_seen.append(len(spool.writes))
            await asyncio.sleep(0)  # one turn of the loop
        return list(await asyncio.gather(*waiting))

    assert asyncio.run(scenario()) == [True] * (FLUSH_AFTER_TURNS + 1)
    assert turns_seen == [0] * FLUSH_AFTER_TURNS + [1]
    assert _ids(spool) == [[f"e{n}" for n in range(FLUSH_AFTER_TURNS)], [f"e{FLUSH_AFTER_TURNS}"]]


def test_flush_after_one_turn_batches_a_single_turn() -> None:
    spool = _Spool()
    writer = InlineWriter(spool, _Sealer(), sync_every_batch=False, flush_after_turns=1)  # type: ignore[arg-type]

    async def scenario() -> None:
        first = writer.submit(later([_row(0)]))
        await asyncio.sleep(0)
        await asyncio.gather(first, writer.submit(later([_row(1)])))

    asyncio.run(scenario())
    assert _ids(spool) == [["e0"], ["e1"]]


def test_a_real_spool_file_holds_one_frame_per_batch(tmp_path: Path) -> None:
    spool = SpoolWriter(str(tmp_path / "spool"))
    writer = _writer(spool)

    async def scenario() -> None:
        await asyncio.gather(*(writer.submit(later([_row(n)])) for n in range(3)))
        await writer.submit(later([_row(3)]))

    asyncio.run(scenario())
    writer.close()
    (name,) = spool_files(spool.directory)
    parsed = parse((tmp_path / "spool" / name).read_bytes())
    assert not parsed.damaged
    assert [[r.event_id for r in f.rows] for f in parsed.frames] == [["e0", "e1", "e2"], ["e3"]]
    assert parsed.frames[0].rows[1].body == b"audit/e1|{}"


def test_a_batch_with_an_intent_is_synced_and_pure_events_are_not() -> None:
    spool = _Spool()
    writer = _writer(spool)

    async def scenario() -> None:
        # A request entry precedes a change: it must be on disk before the
        # change can be. Events alone only need to survive kill -9.
        await writer.submit(later([_row(1)]))
        await asyncio.gather(
            writer.submit(later([_row(2)])), writer.submit(later([_row(3, RowKind.INTENT)]))
        )

    asyncio.run(scenario())
    assert [(ids, sync) for ids, (_, sync) in zip(_ids(spool), spool.writes, strict=True)] == [
        (["e1"], False),
        (["e2", "e3"], True),
    ]


def test_sync_every_batch_syncs_event_only_batches_too() -> None:
    spool = _Spool()
    writer = _writer(spool, sync_every_batch=True)  # audit_sync=full

    async def scenario() -> None:
        await writer.submit(later([_row(1)]))
        await writer.submit(later([_row(2, RowKind.INTENT)]))

    asyncio.run(scenario())
    assert [sync for _, sync in spool.writes] == [True, True]


def test_a_failed_write_fails_every_request_in_the_batch() -> None:
    writer = _writer(_Spool(fail=True))

    async def scenario() -> list[bool]:
        return list(await asyncio.gather(*(writer.submit(later([_row(n)])) for n in range(2))))

    assert asyncio.run(scenario()) == [False, False]
    # Nothing was persisted, so nothing is counted.
    assert (writer.batches, writer.rows) == (0, 0)


def test_close_fails_requests_still_waiting_and_closes_the_spool() -> None:
    spool = _Spool()
    writer = _writer(spool)

    async def scenario() -> bool:
        pending = writer.submit(later([_row(1)]))
        writer.close()  # before the turn that would have written it
        return await pending

    assert asyncio.run(scenario()) is False
    assert spool.writes == [] and spool.closed


def test_a_loop_closed_before_its_batch_was_written_does_not_stall_the_next() -> None:
    # A loop may end between a submit and the next turn (its caller gave
    # up): the flush it had scheduled never runs. The next loop's requests
    # must still be written, with the rows left behind (more recorded than
    # answered, never less), and not wait for a flush that will not come.
    spool = _Spool()
    writer = _writer(spool)
    loop = asyncio.new_event_loop()
    submitted: list[asyncio.Future[bool]] = []

    def submit_then_stop() -> None:
        submitted.append(writer.submit(later([_row(0)])))
        loop.stop()  # the flush it scheduled would run in the next turn

    loop.call_soon(submit_then_stop)
    loop.run_forever()
    loop.close()
    (abandoned,) = submitted
    assert not abandoned.done()

    async def next_request() -> bool:
        return await asyncio.wait_for(writer.submit(later([_row(1)])), timeout=5)

    assert asyncio.run(next_request()) is True
    assert _ids(spool) == [["e0", "e1"]]
    assert abandoned.done() and abandoned.result() is True


def test_rows_are_built_when_the_batch_is_taken_and_a_failed_build_fails_only_its_request() -> None:
    spool = _Spool()
    writer = _writer(spool)
    built: list[int] = []

    def build(n: int) -> Callable[[], list[AuditRow]]:
        def rows() -> list[AuditRow]:
            built.append(n)
            return [_row(n)]

        return rows

    def broken() -> list[AuditRow]:
        raise ValueError("a bug in a record")

    async def scenario() -> list[bool]:
        futures = [writer.submit(build(1)), writer.submit(lambda: None), writer.submit(broken)]
        futures.append(writer.submit(build(2)))
        assert built == []  # nothing is built during the requests' own turn
        return list(await asyncio.gather(*futures))

    assert asyncio.run(scenario()) == [True, False, False, True]
    assert built == [1, 2]
    assert _ids(spool) == [["e1", "e2"]]  # the others' rows still share one write


def test_callbacks_are_answered_in_order_and_one_that_fails_stops_no_other() -> None:
    spool = _Spool()
    writer = _writer(spool)
    answers: list[tuple[str, bool]] = []

    def failing(ok: bool) -> None:
        answers.append(("failing", ok))
        raise RuntimeError("a bug in a continuation")

    async def scenario() -> None:
        writer.submit_then(later([_row(1)]), lambda ok: answers.append(("first", ok)))
        writer.submit_then(later([_row(2)]), failing)
        writer.submit_then(lambda: None, lambda ok: answers.append(("unbuilt", ok)))
        writer.submit_then(later([_row(3)]), lambda ok: answers.append(("last", ok)))
        assert answers == []  # nobody is answered before the batch is written
        for _ in range(5):
            await asyncio.sleep(0)

    asyncio.run(scenario())
    assert answers == [("unbuilt", False), ("first", True), ("failing", True), ("last", True)]
    assert _ids(spool) == [["e1", "e2", "e3"]]
