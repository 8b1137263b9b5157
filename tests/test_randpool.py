"""strongroom.randpool: os.urandom bytes handed out once each."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from strongroom import randpool


def test_bytes_are_never_handed_out_twice() -> None:
    seen = {randpool.random_bytes(12) for _ in range(5000)}  # crosses several 4 KiB refills
    assert len(seen) == 5000
    assert len(randpool.random_bytes(4096)) == 4096
    assert len(randpool.random_bytes(5000)) == 5000  # larger than one chunk


def test_threads_draw_from_their_own_buffers() -> None:
    got: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: got.extend(randpool.random_bytes(16) for _ in range(300)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(got)) == len(got) == 1200


def test_a_forked_child_does_not_repeat_its_parents_bytes() -> None:
    randpool.random_bytes(1)  # the parent now holds a partly used buffer
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send what it would hand out next, then leave
        os.write(write, randpool.random_bytes(32))
        os._exit(0)
    os.close(write)
    child = os.read(read, 32)
    os.close(read)
    os.waitpid(pid, 0)
    assert child != randpool.random_bytes(32)


def test_hex_digits_are_never_handed_out_twice() -> None:
    seen = {randpool.random_hex(19) for _ in range(5000)}  # crosses several refills
    assert len(seen) == 5000
    assert all(len(h) == 19 and int(h, 16) >= 0 for h in seen)
    assert len(randpool.random_hex(9000)) == 9000  # larger than one refill


def test_a_forked_child_does_not_repeat_its_parents_hex_digits() -> None:
    randpool.random_hex(1)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, randpool.random_hex(32).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 32).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child != randpool.random_hex(32)


def test_identifiers_are_well_formed_uuids() -> None:
    from strongroom.audit.record import new_event_id, new_uuid

    ids = [uuid.UUID(new_uuid()) for _ in range(2000)]
    assert {u.version for u in ids} == {4}
    assert {u.variant for u in ids} == {uuid.RFC_4122}
    assert len(set(ids)) == len(ids)
    assert str(ids[0]) == str(ids[0]).lower()
    events = [new_event_id() for _ in range(2000)]
    parsed = [uuid.UUID(e) for e in events]
    assert {u.version for u in parsed} == {7}
    assert {u.variant for u in parsed} == {uuid.RFC_4122}
    assert [e[:13] for e in events] == sorted(e[:13] for e in events)  # time first
    now_ms = time.time_ns() // 1_000_000
    assert abs(int(events[-1].replace("-", "")[:12], 16) - now_ms) < 60_000


def test_buffers_of_ended_threads_do_not_accumulate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(randpool, "_MAX_THREADS", 4)
    got: list[bytes] = []
    for _ in range(20):  # each thread leaves a buffer behind
        t = threading.Thread(target=lambda: got.append(randpool.random_bytes(16)))
        t.start()
        t.join()
    # Threads still alive (other tests' workers) may draw again after a clear.
    assert len(randpool._pools) <= 4 + threading.active_count()
    assert len(set(got)) == 20
