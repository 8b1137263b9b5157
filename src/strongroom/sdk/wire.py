"""Sans-IO primitives shared by the format modules: a bounds-checked reader and
the encryption-context serialization (framework/structures.md "Serialization").

``Incomplete`` is how a parser says "give me more bytes"; a one-shot caller turns
it into ``TruncatedMessageError``, a streaming caller reads more and retries.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from strongroom.sdk.errors import EncryptionContextError, MalformedMessageError

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


class Incomplete(Exception):
    """Raised by a parser when the buffer ends before the structure does."""

    def __init__(self, needed: int) -> None:
        super().__init__(needed)
        self.needed = needed  # total bytes (from the parse start) known to be required


class Reader:
    """A cursor over a memoryview; every read is bounds-checked."""

    __slots__ = ("buf", "pos", "start")

    def __init__(self, buf: bytes | bytearray | memoryview, pos: int = 0) -> None:
        self.buf = memoryview(buf)
        self.pos = pos
        self.start = pos

    def take(self, n: int) -> memoryview:
        end = self.pos + n
        if end > len(self.buf):
            raise Incomplete(end - self.start)
        view = self.buf[self.pos : end]
        self.pos = end
        return view

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int(_U16.unpack(self.take(2))[0])

    def u32(self) -> int:
        return int(_U32.unpack(self.take(4))[0])

    def u64(self) -> int:
        return int(_U64.unpack(self.take(8))[0])

    @property
    def consumed(self) -> int:
        return self.pos - self.start


def u16(n: int) -> bytes:
    return _U16.pack(n)


def u32(n: int) -> bytes:
    return _U32.pack(n)


def u64(n: int) -> bytes:
    return _U64.pack(n)


def serialize_encryption_context(context: Mapping[str, str]) -> bytes:
    """structures.md "Serialization": count, then (key len, key, value len, value) sorted by
    UTF-8 key bytes; an empty context serializes to zero bytes."""
    if not context:
        return b""
    entries: list[tuple[bytes, bytes]] = []
    for key, value in context.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError("encryption context keys and values must be str")
        entries.append((key.encode("utf-8"), value.encode("utf-8")))
    if len(entries) > 0xFFFF:
        raise EncryptionContextError("encryption context has more than 65535 entries")
    entries.sort(key=lambda kv: kv[0])
    out = bytearray(u16(len(entries)))
    for kb, vb in entries:
        if len(kb) > 0xFFFF or len(vb) > 0xFFFF:
            raise EncryptionContextError("encryption context key or value longer than 65535 bytes")
        out += u16(len(kb)) + kb + u16(len(vb)) + vb
    if len(out) > 0xFFFF:
        raise EncryptionContextError("serialized encryption context exceeds 65535 bytes")
    return bytes(out)


def parse_encryption_context(data: memoryview | bytes) -> dict[str, str]:
    """Inverse of serialize; refuses duplicate keys and trailing bytes. Order is not
    enforced: the header tag authenticates the exact bytes, and refusing an unsorted
    context would only break interoperability with a lax writer."""
    if len(data) == 0:
        return {}
    reader = Reader(data)
    try:
        count = reader.u16()
        if count == 0:  # message-header.md: "Key Value Pair Count ... MUST be greater than 0"
            raise MalformedMessageError("encryption context count is zero")
        context: dict[str, str] = {}
        for _ in range(count):
            key = bytes(reader.take(reader.u16())).decode("utf-8")
            value = bytes(reader.take(reader.u16())).decode("utf-8")
            if key in context:
                raise MalformedMessageError("encryption context has a duplicate key")
            context[key] = value
    except Incomplete:
        raise MalformedMessageError("encryption context is shorter than its length") from None
    except UnicodeDecodeError:
        raise MalformedMessageError("encryption context is not valid UTF-8") from None
    if reader.pos != len(data):
        raise MalformedMessageError("encryption context has trailing bytes")
    return context
