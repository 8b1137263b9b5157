"""Streaming encryption and decryption with memory bounded by the frame length
(spec: client-apis/streaming.md and the release rules in decrypt.md).

``StreamEncryptor`` / ``StreamDecryptor`` are readable file objects (``read``,
``readinto``) and iterables of chunks, over any source: a binary file, bytes, or
an iterable of byte chunks. The format code they drive is sans-IO; this module
only decides how many bytes to read next.

Release rules for signed messages: by default no plaintext is released until
the footer signature verifies, which means the plaintext is held in memory. For
bounded memory pass ``release_unverified=True``: each regular frame is released
once its own AES-GCM tag verifies (it is authentic under the data key, but not
yet proven to come from the signer), the final frame is still withheld until the
signature verifies, and an exception at the end means the caller must discard
what it received. ``unsigned_only=True`` refuses signed messages right after the
header (the AWS SDK's decrypt-unsigned mode).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from strongroom.sdk.body import (
    FINAL_FRAME_OVERHEAD,
    REGULAR_FRAME_OVERHEAD,
    FrameReader,
    FrameWriter,
    parse_footer,
    parse_frame,
    parse_non_framed,
    serialize_footer,
)
from strongroom.sdk.engine import (
    DEFAULT_FRAME_LENGTH,
    DecryptionState,
    EncryptionState,
    begin_decryption,
    begin_encryption,
    resolve_cmm,
)
from strongroom.sdk.errors import MalformedMessageError, PolicyError, TruncatedMessageError
from strongroom.sdk.header import EncryptedDataKey, Header, parse_header
from strongroom.sdk.materials import Keyring, MaterialsManager
from strongroom.sdk.suites import AlgorithmSuite, CommitmentPolicy
from strongroom.sdk.wire import Incomplete

DEFAULT_MAX_HEADER_LENGTH = 4 * 1024 * 1024
_READ_CHUNK = 1024 * 1024  # never ask a source for more than this at once
_BLOCK = 256 * 1024  # encrypted frames are yielded (and hashed) in blocks of about this size
_POLICY = CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT


class _Source:
    """Uniform "read up to n bytes" over files, bytes and chunk iterables."""

    def __init__(self, source: Any) -> None:
        self._pending = bytearray()
        self._iter: Iterator[bytes] | None = None
        self._file: Any = None
        if isinstance(source, bytes | bytearray | memoryview):
            self._file = io.BytesIO(bytes(source))
        elif hasattr(source, "read"):
            self._file = source
        elif isinstance(source, Iterable):
            self._iter = iter(source)
        else:
            raise TypeError("source must be bytes, a binary file or an iterable of bytes")
        self.eof = False

    def _pull(self, n: int) -> bytes:
        if self._file is not None:
            data = self._file.read(n)
            if not isinstance(data, bytes | bytearray):
                raise TypeError("source must be opened in binary mode")
            return bytes(data)
        assert self._iter is not None
        return bytes(next(self._iter, b""))

    def fill(self, buf: bytearray, n: int) -> None:
        """Append bytes to ``buf`` until it holds ``n`` bytes or the source ends."""
        if self._pending:
            take = min(n - len(buf), len(self._pending))
            buf += self._pending[:take]
            del self._pending[:take]
        while len(buf) < n and not self.eof:
            data = self._pull(min(n - len(buf), _READ_CHUNK))
            if not data:
                self.eof = True
                break
            extra = len(buf) + len(data) - n
            if extra > 0:  # an iterable chunk may overshoot; keep the rest for later
                self._pending += data[len(data) - extra :]
                data = data[: len(data) - extra]
            buf += data

    def at_end(self) -> bool:
        probe = bytearray()
        self.fill(probe, 1)
        if probe:
            self._pending[:0] = probe
            return False
        return True


class _ChunkReader(io.RawIOBase):
    """A readable file over a generator of chunks."""

    def __init__(self) -> None:
        super().__init__()
        self._gen: Iterator[bytes] | None = None
        self._buf = bytearray()

    def _chunks(self) -> Iterator[bytes]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[bytes]:
        if self._buf:
            yield bytes(self._buf)
            self._buf.clear()
        if self._gen is None:
            self._gen = self._chunks()
        yield from self._gen

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        if self._gen is None:
            self._gen = self._chunks()
        while not self._buf:
            chunk = next(self._gen, None)
            if chunk is None:
                return 0
            self._buf += chunk
        n = min(len(view), len(self._buf))
        view[:n] = self._buf[:n]
        del self._buf[:n]
        return n

    def write_to(self, dest: Any) -> int:
        """Copy everything to a binary file; returns the number of bytes written."""
        total = 0
        for chunk in self:
            dest.write(chunk)
            total += len(chunk)
        return total


class StreamEncryptor(_ChunkReader):
    def __init__(
        self,
        source: Any,
        *,
        keyring: Keyring | None = None,
        materials_manager: MaterialsManager | None = None,
        encryption_context: Mapping[str, str] | None = None,
        algorithm_suite: AlgorithmSuite | int | None = None,
        frame_length: int = DEFAULT_FRAME_LENGTH,
        commitment_policy: CommitmentPolicy = _POLICY,
        max_encrypted_data_keys: int | None = None,
        plaintext_length: int | None = None,
    ) -> None:
        super().__init__()
        self._source = _Source(source)
        self._cmm = resolve_cmm(keyring, materials_manager)
        self._options = dict(
            encryption_context=encryption_context,
            algorithm_suite=algorithm_suite,
            frame_length=frame_length,
            commitment_policy=commitment_policy,
            max_encrypted_data_keys=max_encrypted_data_keys,
            plaintext_length=plaintext_length,
        )
        self._state: EncryptionState | None = None
        self._length_bound = plaintext_length

    @property
    def header(self) -> Header:
        return self._begin().header

    def _begin(self) -> EncryptionState:
        if self._state is None:
            self._state = begin_encryption(self._cmm, **self._options)  # type: ignore[arg-type]
        return self._state

    def _chunks(self) -> Iterator[bytes]:
        state = self._begin()
        header = state.header
        yield state.header_bytes
        flen = header.frame_length
        writer = FrameWriter(state.key, header.message_id, flen)
        seen = 0
        if not flen:  # legacy non-framed: the length precedes the content, so read it all
            data = bytearray()
            self._source.fill(data, 2**62)
            out = bytearray(len(data) + 36)
            writer.non_framed(data, memoryview(out))
            blocks: Iterable[bytes] = (bytes(out),)
            seen = len(data)
        else:
            blocks = self._frames(writer, flen)
        for block in blocks:
            if state.hasher is not None:
                state.hasher.update(block)
            yield block
        if not flen and self._length_bound is not None and seen > self._length_bound:
            raise PolicyError("plaintext longer than the declared plaintext length")
        if state.hasher is not None:
            assert state.signing_key is not None
            yield serialize_footer(state.hasher.sign(state.signing_key))

    def _frames(self, writer: FrameWriter, flen: int) -> Iterator[bytes]:
        """Frames, yielded in blocks of up to ~256 KiB: one hash update and one write per
        block instead of per 4 KiB frame. Memory stays bounded by the block size."""
        seq = 1
        total = 0
        chunk = bytearray()
        per_block = max(1, _BLOCK // (flen + REGULAR_FRAME_OVERHEAD))
        block = bytearray(per_block * (flen + REGULAR_FRAME_OVERHEAD) + flen + FINAL_FRAME_OVERHEAD)
        view = memoryview(block)
        pos = 0
        while True:
            chunk.clear()
            self._source.fill(chunk, flen)
            total += len(chunk)
            if self._length_bound is not None and total > self._length_bound:
                raise PolicyError("plaintext longer than the declared plaintext length")
            if len(chunk) == flen and not self._source.at_end():
                pos += writer.regular(seq, chunk, view[pos:])
                if seq % per_block == 0:
                    yield bytes(view[:pos])
                    pos = 0
                seq += 1
                if seq > 0xFFFFFFFE:
                    raise PolicyError("plaintext needs more frames than the format allows")
                continue
            pos += writer.final(seq, chunk, view[pos:])
            yield bytes(view[:pos])
            return


class StreamDecryptor(_ChunkReader):
    def __init__(
        self,
        source: Any,
        *,
        keyring: Keyring | None = None,
        materials_manager: MaterialsManager | None = None,
        commitment_policy: CommitmentPolicy = _POLICY,
        max_encrypted_data_keys: int | None = None,
        encryption_context: Mapping[str, str] | None = None,
        max_body_length: int | None = None,
        unsigned_only: bool = False,
        release_unverified: bool = False,
        max_header_length: int = DEFAULT_MAX_HEADER_LENGTH,
    ) -> None:
        super().__init__()
        self._source = _Source(source)
        self._cmm = resolve_cmm(keyring, materials_manager)
        self._policy = commitment_policy
        self._max_edks = max_encrypted_data_keys
        self._context = encryption_context
        self._max_body = max_body_length
        self._unsigned_only = unsigned_only
        self._release = release_unverified
        self._max_header = max_header_length
        self._state: DecryptionState | None = None

    @property
    def header(self) -> Header:
        """The verified header (reads and authenticates it on first access)."""
        return self._begin().header

    @property
    def decrypted_data_key(self) -> EncryptedDataKey | None:
        """The encrypted data key the keyring unwrapped (None if a custom CMM did not say)."""
        return self._begin().materials.decrypted_data_key

    def _parse(self, buf: bytearray, parse: Any, limit: int) -> Any:
        """Run a sans-IO parser, reading more input each time it reports ``Incomplete``."""
        while True:
            try:
                return parse(memoryview(buf))
            except Incomplete as need:
                needed = need.needed
            # Outside the except block the traceback (and its views of ``buf``) is gone,
            # so the bytearray may grow again.
            if needed > limit:
                raise MalformedMessageError("message structure exceeds the configured limit")
            before = len(buf)
            self._source.fill(buf, needed)
            if len(buf) == before:
                raise TruncatedMessageError("message ended early")

    def _begin(self) -> DecryptionState:
        if self._state is None:
            buf = bytearray()
            header, used = self._parse(
                buf, lambda v: parse_header(v, self._max_edks), self._max_header
            )
            if used != len(buf):
                raise AssertionError("header parser over-read")
            self._state = begin_decryption(
                self._cmm,
                header,
                commitment_policy=self._policy,
                encryption_context=self._context,
                unsigned_only=self._unsigned_only,
            )
        return self._state

    def _chunks(self) -> Iterator[bytes]:
        state = self._begin()
        header = state.header
        reader = FrameReader(state.key, header.message_id)
        signed = state.hasher is not None
        held: list[bytes] = []
        total = 0
        body_limit = (header.frame_length + 64) if header.framed else 2**37
        buf = bytearray()
        while True:
            buf.clear()
            if header.framed:
                frame = self._parse(
                    buf, lambda v: parse_frame(v, 0, header.frame_length), body_limit
                )
            else:
                frame = self._parse(
                    buf, lambda v: parse_non_framed(v, 0, self._max_body), body_limit
                )
            plain = bytearray(frame.content_length)
            reader.open_into(frame, memoryview(plain), framed=header.framed)
            del frame
            total += len(plain)
            if self._max_body is not None and total > self._max_body:
                raise PolicyError("message body exceeds the configured maximum")
            if state.hasher is not None:
                state.hasher.update(buf)
            final = not header.framed or (reader.expected_seq > 1 and _was_final(buf))
            if signed and (final or not self._release):
                held.append(bytes(plain))
            else:
                yield bytes(plain)
            if final:
                break
        if state.hasher is not None:
            buf.clear()
            signature, _ = self._parse(buf, lambda v: parse_footer(v, 0), 2**16 + 2)
            assert state.materials.verification_key is not None
            state.hasher.verify(state.materials.verification_key, signature)
        if not self._source.at_end():
            raise MalformedMessageError("trailing bytes after the end of the message")
        yield from held


def _was_final(frame_bytes: bytearray) -> bool:
    return frame_bytes[:4] == b"\xff\xff\xff\xff"


def encrypt_stream(source: Any, **options: Any) -> StreamEncryptor:
    """Iterator/file form of ``encrypt``; see ``StreamEncryptor`` for options."""
    return StreamEncryptor(source, **options)


def decrypt_stream(source: Any, **options: Any) -> StreamDecryptor:
    """Iterator/file form of ``decrypt``; see ``StreamDecryptor`` for options."""
    return StreamDecryptor(source, **options)
