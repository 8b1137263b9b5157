"""Message body and footer (spec: data-format/message-body.md, message-body-aad.md,
message-footer.md).

Frames are written straight into a caller-supplied buffer with
``AESGCM.encrypt_into`` and read straight out of one with ``decrypt_into``:
the ciphertext and tag are adjacent on the wire, so no per-frame copies are
needed. Parsing is sans-IO: ``parse_frame`` reads a frame at an offset of any
buffer and raises ``Incomplete`` when it needs more bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.sdk.errors import AuthenticationError, MalformedMessageError
from strongroom.sdk.suites import IV_LEN, TAG_LEN
from strongroom.sdk.wire import Incomplete, Reader, u16

# message-body-aad.md "Body AAD Content": UTF-8 strings that bind each block to its role
FRAME_AAD = b"AWSKMSEncryptionClient Frame"
FINAL_FRAME_AAD = b"AWSKMSEncryptionClient Final Frame"
SINGLE_BLOCK_AAD = b"AWSKMSEncryptionClient Single Block"

SEQUENCE_NUMBER_END = 0xFFFFFFFF  # message-body.md "Sequence Number End" marks the final frame
MAX_FRAME_LENGTH = 2**32 - 1  # message-header.md "Frame Length" is a UInt32
MAX_SEQUENCE_NUMBER = 2**32 - 2  # 0xFFFFFFFF is reserved for the end marker
MAX_NON_FRAMED_LENGTH = 2**36 - 32  # AES-GCM's limit for one invocation (NIST SP 800-38D)

_SEQ_LEN = struct.Struct(">IQ")  # body AAD suffix: Sequence Number (4) || Content Length (8)
_U32 = struct.Struct(">I")
_FRAME_HEAD = struct.Struct(">I8xI")  # regular frame: Sequence Number (4) || IV (8 zeros || seq)
_IV_PAD = bytes(IV_LEN - 4)

REGULAR_FRAME_OVERHEAD = 4 + IV_LEN + TAG_LEN  # Sequence Number, IV, Authentication Tag
FINAL_FRAME_OVERHEAD = 4 + 4 + IV_LEN + 4 + TAG_LEN  # + end marker and content length
NON_FRAMED_OVERHEAD = IV_LEN + 8 + TAG_LEN  # IV, Encrypted Content Length (8), tag


def sequence_iv(seq: int) -> bytes:
    """encrypt.md "Construct a frame": the IV is the sequence number, left-padded with zeros."""
    return _IV_PAD + _U32.pack(seq)


def body_aad(message_id: bytes, content: bytes, seq: int, length: int) -> bytes:
    """message-body-aad.md: Message ID || Body AAD Content || Sequence Number || Content Length."""
    return message_id + content + _SEQ_LEN.pack(seq, length)


def framed_body_length(plaintext_len: int, frame_length: int) -> int:
    """Size of the body encrypt() writes: full regular frames, then a final frame holding the
    remainder (a whole frame when the length divides evenly, an empty one for no plaintext)."""
    regular = max(0, (plaintext_len - 1) // frame_length)
    final_len = plaintext_len - regular * frame_length
    return regular * (frame_length + REGULAR_FRAME_OVERHEAD) + final_len + FINAL_FRAME_OVERHEAD


class FrameWriter:
    """Encrypts frames for one message with one AESGCM object (one per data key)."""

    __slots__ = ("_aead", "_final_prefix", "_frame_length", "_message_id", "_regular_prefix")

    def __init__(self, key: bytes, message_id: bytes, frame_length: int) -> None:
        self._aead = AESGCM(key)
        self._message_id = message_id
        self._frame_length = frame_length
        self._regular_prefix = message_id + FRAME_AAD
        self._final_prefix = message_id + FINAL_FRAME_AAD

    def regular(self, seq: int, plaintext: bytes | bytearray | memoryview, out: memoryview) -> int:
        """Write a regular frame at the start of ``out``; return its size."""
        n = self._frame_length
        iv = sequence_iv(seq)
        out[0:4] = _U32.pack(seq)  # Sequence Number (4)
        out[4:16] = iv  # IV (12)
        aad = self._regular_prefix + _SEQ_LEN.pack(seq, n)
        self._aead.encrypt_into(iv, plaintext, aad, out[16 : 16 + n + TAG_LEN])  # content, tag
        return n + REGULAR_FRAME_OVERHEAD

    def body(
        self,
        data: memoryview,
        out: memoryview,
        progress: Callable[[int], None] | None = None,
        every: int = 1 << 20,
    ) -> int:
        """Write the whole framed body of ``data`` at the start of ``out`` (regular frames,
        then a final frame with the rest); returns its length. ``progress(end)`` is called
        whenever about ``every`` more bytes of ``out[:end]`` are final, so the caller can
        hash them while later frames are sealed.

        This is the hot loop of one-shot encryption (16 K frames for 64 MiB at 4 KiB), so
        it allocates nothing per frame: the sequence number and IV are packed straight
        into ``out``, the AAD and IV live in two reused bytearrays, and the only per-frame
        objects are the two memoryview slices ``encrypt_into`` needs."""
        n = self._frame_length
        total = len(data)
        seal = self._aead.encrypt_into
        aad = bytearray(self._regular_prefix + bytes(_SEQ_LEN.size))
        aad_at = len(self._regular_prefix)
        pack_aad = _SEQ_LEN.pack_into
        iv = bytearray(IV_LEN)
        pack_iv = _U32.pack_into
        pack_head = _FRAME_HEAD.pack_into
        size = n + REGULAR_FRAME_OVERHEAD
        pos = offset = 0
        seq = 1
        report = every
        while total - offset > n:  # every frame but the last is a regular frame
            pack_head(out, pos, seq, seq)  # Sequence Number (4), IV (12)
            pack_iv(iv, IV_LEN - 4, seq)
            pack_aad(aad, aad_at, seq, n)
            seal(iv, data[offset : offset + n], aad, out[pos + 16 : pos + size])  # content, tag
            pos += size
            offset += n
            seq += 1
            if progress is not None and pos >= report:
                progress(pos)
                report = pos + every
        if seq > MAX_SEQUENCE_NUMBER:
            raise ValueError("plaintext needs more frames than the format allows")
        pos += self.final(seq, data[offset:], out[pos:])
        if progress is not None:
            progress(pos)
        return pos

    def final(self, seq: int, plaintext: bytes | bytearray | memoryview, out: memoryview) -> int:
        """Write the final frame at the start of ``out``; return its size."""
        n = len(plaintext)
        if n > self._frame_length:
            raise ValueError("final frame longer than the frame length")
        iv = sequence_iv(seq)
        out[0:4] = _U32.pack(SEQUENCE_NUMBER_END)  # Sequence Number End (4)
        out[4:8] = _U32.pack(seq)  # Sequence Number (4)
        out[8:20] = iv  # IV (12)
        out[20:24] = _U32.pack(n)  # Encrypted Content Length (4)
        aad = self._final_prefix + _SEQ_LEN.pack(seq, n)
        self._aead.encrypt_into(iv, plaintext, aad, out[24 : 24 + n + TAG_LEN])
        return n + FINAL_FRAME_OVERHEAD

    def non_framed(self, plaintext: bytes | bytearray | memoryview, out: memoryview) -> int:
        """Write a non-framed body (legacy content type 0x01, still read by every ESDK)."""
        n = len(plaintext)
        if n > MAX_NON_FRAMED_LENGTH:
            raise ValueError("plaintext too long for a non-framed body")
        iv = sequence_iv(1)
        out[0:12] = iv  # IV (12)
        out[12:20] = struct.pack(">Q", n)  # Encrypted Content Length (8)
        aad = body_aad(self._message_id, SINGLE_BLOCK_AAD, 1, n)
        self._aead.encrypt_into(iv, plaintext, aad, out[20 : 20 + n + TAG_LEN])
        return n + NON_FRAMED_OVERHEAD


@dataclass(slots=True)
class Frame:
    """One parsed frame (or the whole non-framed body); ``sealed`` is ciphertext || tag."""

    seq: int
    iv: bytes
    sealed: memoryview
    final: bool
    size: int  # bytes the frame occupies on the wire

    @property
    def content_length(self) -> int:
        return len(self.sealed) - TAG_LEN


def parse_frame(buf: memoryview, pos: int, frame_length: int) -> Frame:
    """Parse the frame starting at ``buf[pos]`` (message-body.md "Framed Data")."""
    r = Reader(buf, pos)
    first = r.u32()
    if first == SEQUENCE_NUMBER_END:  # Final Frame
        seq = r.u32()  # Sequence Number (4)
        iv = bytes(r.take(IV_LEN))  # IV (12)
        length = r.u32()  # Encrypted Content Length (4)
        if length > frame_length:  # decrypt.md: final content MUST NOT exceed the frame length
            raise MalformedMessageError("final frame is longer than the frame length")
        sealed = r.take(length + TAG_LEN)  # Encrypted Content, Authentication Tag
        return Frame(seq, iv, sealed, True, r.consumed)
    iv = bytes(r.take(IV_LEN))  # Regular Frame: Sequence Number (4), IV (12)
    sealed = r.take(frame_length + TAG_LEN)  # Encrypted Content (frame length), Tag (16)
    return Frame(first, iv, sealed, False, r.consumed)


def parse_non_framed(buf: memoryview, pos: int, max_length: int | None = None) -> Frame:
    """Parse a non-framed body (message-body.md "Non-Framed Data")."""
    r = Reader(buf, pos)
    iv = bytes(r.take(IV_LEN))  # IV (12)
    length = r.u64()  # Encrypted Content Length (8)
    if length > MAX_NON_FRAMED_LENGTH or (max_length is not None and length > max_length):
        raise MalformedMessageError("non-framed content length exceeds the limit")
    sealed = r.take(length + TAG_LEN)  # Encrypted Content, Authentication Tag (16)
    return Frame(1, iv, sealed, True, r.consumed)


class FrameReader:
    """Authenticates and decrypts frames in order for one message."""

    __slots__ = ("_aead", "_final_prefix", "_message_id", "_regular_prefix", "expected_seq")

    def __init__(self, key: bytes, message_id: bytes) -> None:
        self._aead = AESGCM(key)
        self._message_id = message_id
        self._regular_prefix = message_id + FRAME_AAD
        self._final_prefix = message_id + FINAL_FRAME_AAD
        self.expected_seq = 1

    def open_into(self, frame: Frame, out: memoryview, *, framed: bool = True) -> int:
        """Decrypt ``frame`` into ``out``; returns the plaintext length. Checks the sequence."""
        if frame.seq != self.expected_seq:  # decrypt.md: 1, then +1 per frame
            raise MalformedMessageError("frame sequence number out of order")
        n = frame.content_length
        if not framed:
            aad = body_aad(self._message_id, SINGLE_BLOCK_AAD, 1, n)
        else:
            prefix = self._final_prefix if frame.final else self._regular_prefix
            aad = prefix + _SEQ_LEN.pack(frame.seq, n)
        try:
            # The wire IV is used as-is: GCM authenticates it, and published vectors
            # (commitment vectors 6/7) carry IVs other than the padded sequence number.
            self._aead.decrypt_into(frame.iv, frame.sealed, aad, out[:n])
        except InvalidTag:
            raise AuthenticationError("frame authentication failed") from None
        if not frame.final and self.expected_seq >= MAX_SEQUENCE_NUMBER:
            raise MalformedMessageError("too many frames")
        self.expected_seq += 1
        return n


def serialize_footer(signature: bytes) -> bytes:
    """message-footer.md: Signature Length (2) || Signature (DER ECDSA)."""
    return u16(len(signature)) + signature


def parse_footer(buf: memoryview, pos: int) -> tuple[bytes, int]:
    r = Reader(buf, pos)
    sig = bytes(r.take(r.u16()))
    return sig, r.consumed


__all__ = ["Frame", "FrameReader", "FrameWriter", "Incomplete", "parse_footer", "parse_frame"]
