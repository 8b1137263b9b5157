"""strongroom.randpool: os.urandom bytes handed out once each."""

from __future__ import annotations

import os
import threading

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
