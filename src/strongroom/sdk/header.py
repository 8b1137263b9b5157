"""Message header, versions 1.0 and 2.0 (spec: data-format/message-header.md).

Sans-IO: ``serialize_header_body`` turns a ``Header`` into bytes and
``parse_header`` turns bytes into a ``Header``; neither touches a stream.
Field order and widths below follow the spec's "Header Body" tables line by line.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from strongroom.sdk.errors import MalformedMessageError, PolicyError
from strongroom.sdk.suites import IV_LEN, TAG_LEN, AlgorithmSuite
from strongroom.sdk.wire import (
    Incomplete,
    Reader,
    parse_encryption_context,
    serialize_encryption_context,
    u16,
    u32,
)

MESSAGE_TYPE = 0x80  # "Type": Customer Authenticated Encrypted Data (v1 only)


class ContentType(enum.IntEnum):
    """message-header.md "Supported Content Types"."""

    NON_FRAMED = 0x01
    FRAMED = 0x02


@dataclass(frozen=True, slots=True)
class EncryptedDataKey:
    """framework/structures.md "Encrypted Data Key"."""

    provider_id: str  # "Key Provider ID": UTF-8, e.g. "aws-kms" or a raw keyring namespace
    provider_info: bytes  # "Key Provider Information": keyring-defined bytes
    ciphertext: bytes  # "Encrypted Data Key"


@dataclass(frozen=True, slots=True)
class Header:
    """A parsed or to-be-written message header."""

    suite: AlgorithmSuite
    message_id: bytes
    encryption_context: Mapping[str, str]
    encrypted_data_keys: tuple[EncryptedDataKey, ...]
    content_type: ContentType
    frame_length: int
    suite_data: bytes = b""  # v2 "Algorithm Suite Data": the commit key for committing suites
    header_iv: bytes = bytes(IV_LEN)  # v1 header auth IV; v2 uses an implicit all-zero IV
    header_tag: bytes = b""  # "Authentication Tag" over the header body
    body_bytes: bytes = field(default=b"", repr=False)  # the exact serialized header body

    @property
    def version(self) -> int:
        return self.suite.props.message_version

    @property
    def framed(self) -> bool:
        return self.content_type is ContentType.FRAMED

    def auth_bytes(self) -> bytes:
        """Header Authentication: v1 = IV || tag, v2 = tag only."""
        return (self.header_iv + self.header_tag) if self.version == 1 else self.header_tag

    def to_bytes(self) -> bytes:
        return self.body_bytes + self.auth_bytes()


def _serialize_edks(edks: tuple[EncryptedDataKey, ...]) -> bytes:
    if not edks:  # "Encrypted Data Key Count ... MUST be greater than 0"
        raise ValueError("a message needs at least one encrypted data key")
    if len(edks) > 0xFFFF:
        raise ValueError("more than 65535 encrypted data keys")
    out = bytearray(u16(len(edks)))  # Encrypted Data Key Count (2)
    for edk in edks:
        pid = edk.provider_id.encode("utf-8")
        for part in (pid, edk.provider_info, edk.ciphertext):
            if len(part) > 0xFFFF:
                raise ValueError("encrypted data key field longer than 65535 bytes")
        out += u16(len(pid)) + pid  # Key Provider ID Length (2), Key Provider ID
        out += u16(len(edk.provider_info)) + edk.provider_info  # Key Provider Information
        out += u16(len(edk.ciphertext)) + edk.ciphertext  # Encrypted Data Key Length, Key
    return bytes(out)


def serialize_header_body(
    suite: AlgorithmSuite,
    message_id: bytes,
    stored_context: Mapping[str, str],
    edks: tuple[EncryptedDataKey, ...],
    content_type: ContentType,
    frame_length: int,
    suite_data: bytes = b"",
) -> bytes:
    """Serialize the header body exactly as the spec's tables order it."""
    props = suite.props
    if len(message_id) != props.message_id_len:
        raise ValueError("message id length does not match the message version")
    if len(suite_data) != props.suite_data_len:
        raise ValueError("algorithm suite data length does not match the suite")
    aad = serialize_encryption_context(stored_context)
    out = bytearray()
    out.append(props.message_version)  # Version (1)
    if props.message_version == 1:
        out.append(MESSAGE_TYPE)  # Type (1), v1 only
    out += suite.id_bytes  # Algorithm Suite ID (2)
    out += message_id  # Message ID (16 in v1, 32 in v2)
    out += u16(len(aad)) + aad  # AAD: Key Value Pairs Length (2) + Key Value Pairs
    out += _serialize_edks(edks)  # Encrypted Data Keys
    out.append(content_type)  # Content Type (1)
    if props.message_version == 1:
        out += bytes(4)  # Reserved (4): 00 00 00 00
        out.append(IV_LEN)  # IV Length (1)
    out += u32(frame_length)  # Frame Length (4); 0 when non-framed
    if props.message_version == 2:
        out += suite_data  # Algorithm Suite Data (commit key)
    return bytes(out)


def parse_header(
    buf: bytes | bytearray | memoryview, max_encrypted_data_keys: int | None = None
) -> tuple[Header, int]:
    """Parse a complete header (body + authentication) from the start of ``buf``.

    Returns the header and the number of bytes it occupies. Raises ``Incomplete``
    if ``buf`` ends early and ``MalformedMessageError`` for invalid fields. The tag
    is *not* verified here: that needs the data key (decrypt.md "Verify the header").
    """
    r = Reader(buf)
    version = r.u8()  # Version (1)
    if version == 1:
        if r.u8() != MESSAGE_TYPE:  # Type (1)
            raise MalformedMessageError("unknown message type")
    elif version != 2:
        # decrypt.md: detect a base64-encoded message ("AY" / "AQ" / "Ag") for a clearer error
        if version in (0x41,):
            raise MalformedMessageError("unsupported message version: input looks base64-encoded")
        raise MalformedMessageError(f"unsupported message version 0x{version:02x}")
    suite_id = r.u16()  # Algorithm Suite ID (2)
    try:
        suite = AlgorithmSuite(suite_id)
    except ValueError:
        raise MalformedMessageError(f"unknown algorithm suite 0x{suite_id:04x}") from None
    props = suite.props
    if props.message_version != version:
        raise MalformedMessageError("algorithm suite does not belong to this message version")
    message_id = bytes(r.take(props.message_id_len))  # Message ID (16 / 32)
    aad_len = r.u16()  # AAD: Key Value Pairs Length (2)
    context = parse_encryption_context(r.take(aad_len))  # Key Value Pairs
    edk_count = r.u16()  # Encrypted Data Key Count (2)
    if edk_count == 0:
        raise MalformedMessageError("encrypted data key count is zero")
    if max_encrypted_data_keys is not None and edk_count > max_encrypted_data_keys:
        # decrypt.md: fail as soon as the count is known, before reading the keys
        raise PolicyError(
            f"message has {edk_count} encrypted data keys, more than the configured maximum"
        )
    edks: list[EncryptedDataKey] = []
    for _ in range(edk_count):
        try:
            pid = bytes(r.take(r.u16())).decode("utf-8")  # Key Provider ID Length, ID
        except UnicodeDecodeError:
            raise MalformedMessageError("key provider id is not UTF-8") from None
        info = bytes(r.take(r.u16()))  # Key Provider Information Length, Information
        ciphertext = bytes(r.take(r.u16()))  # Encrypted Data Key Length, Key
        edks.append(EncryptedDataKey(pid, info, ciphertext))
    try:
        content_type = ContentType(r.u8())  # Content Type (1)
    except ValueError:
        raise MalformedMessageError("unknown content type") from None
    if version == 1:
        if bytes(r.take(4)) != bytes(4):  # Reserved (4) MUST be 00 00 00 00
            raise MalformedMessageError("reserved header bytes are not zero")
        if r.u8() != IV_LEN:  # IV Length (1) MUST equal the suite's IV length
            raise MalformedMessageError("header IV length does not match the algorithm suite")
    frame_length = r.u32()  # Frame Length (4)
    if content_type is ContentType.NON_FRAMED and frame_length != 0:
        raise MalformedMessageError("non-framed message has a non-zero frame length")
    if content_type is ContentType.FRAMED and frame_length == 0:
        raise MalformedMessageError("framed message has a zero frame length")
    suite_data = (
        bytes(r.take(props.suite_data_len)) if version == 2 else b""
    )  # Algorithm Suite Data
    body_len = r.consumed
    header_iv = bytes(r.take(IV_LEN)) if version == 1 else bytes(IV_LEN)  # Header Auth IV (v1)
    header_tag = bytes(r.take(TAG_LEN))  # Header Auth Authentication Tag
    header = Header(
        suite=suite,
        message_id=message_id,
        encryption_context=context,
        encrypted_data_keys=tuple(edks),
        content_type=content_type,
        frame_length=frame_length,
        suite_data=suite_data,
        header_iv=header_iv,
        header_tag=header_tag,
        body_bytes=bytes(r.buf[r.start : r.start + body_len]),
    )
    return header, r.consumed


__all__ = [
    "ContentType",
    "EncryptedDataKey",
    "Header",
    "Incomplete",
    "describe_edk",
    "parse_header",
    "serialize_header_body",
]


_RAW_AES_INFO_TAIL = b"\x00\x00\x00\x80\x00\x00\x00\x0c"  # tag bits 128, IV length 12


def describe_edk(edk: EncryptedDataKey) -> dict[str, str]:
    """A human-readable identity of the wrapping key behind an EDK: the key ARN for KMS,
    the key name for raw keyrings (raw AES provider info is name || 128 || 12 || IV)."""
    info = edk.provider_info
    if edk.provider_id != "aws-kms" and len(info) >= 20 and info[-20:-12] == _RAW_AES_INFO_TAIL:
        info = info[:-20]
    try:
        text = info.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if not text or not text.isprintable():
        text = "base64:" + base64.b64encode(info).decode("ascii")
    return {"provider_id": edk.provider_id, "key": text}
