"""How audit bodies are sealed: the barrier's path that binds a body to its
event (``audit/<eventID>``), and sealing a batch of rows in place.

Kept apart from :mod:`strongroom.audit.trail` so that the writer process's
child, which seals what it appends, does not import the record builder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from strongroom.audit.log import AuditRow


class Sealer(Protocol):
    def seal(self, path: str, plaintext: bytes) -> bytes: ...

    def seal_many(self, items: Sequence[tuple[str, bytes]]) -> list[bytes]: ...

    def open(self, path: str, blob: bytes) -> bytes: ...


class PlainSealer:
    """For tests without a barrier: bodies stored as they are."""

    def seal(self, path: str, plaintext: bytes) -> bytes:
        return plaintext

    def seal_many(self, items: Sequence[tuple[str, bytes]]) -> list[bytes]:
        return [self.seal(path, plaintext) for path, plaintext in items]

    def open(self, path: str, blob: bytes) -> bytes:
        return blob


def body_path(event_id: str) -> str:
    """The path an event's body is sealed at: moved to another event, it does not open."""
    return f"audit/{event_id}"


def seal_rows(sealer: Sealer, rows: Sequence[AuditRow]) -> None:
    """Replace each row's body with its sealed form, in one batch."""
    sealed = sealer.seal_many([(body_path(r.event_id), r.body) for r in rows])
    for row, body in zip(rows, sealed, strict=True):
        row.body = body
