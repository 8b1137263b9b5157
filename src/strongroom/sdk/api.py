"""One-shot ``encrypt`` and ``decrypt`` (spec: client-apis/encrypt.md, decrypt.md).

The whole message is in memory, so frames are sealed and opened in place in one
preallocated buffer: one AESGCM object per data key, no per-frame copies.
Nothing is returned until every tag and the signature have verified.
"""

from __future__ import annotations

from collections.abc import Mapping

from strongroom.sdk.body import (
    NON_FRAMED_OVERHEAD,
    FrameReader,
    FrameWriter,
    framed_body_length,
    parse_footer,
    parse_frame,
    parse_non_framed,
    serialize_footer,
)
from strongroom.sdk.engine import (
    DEFAULT_FRAME_LENGTH,
    begin_decryption,
    begin_encryption,
    resolve_cmm,
)
from strongroom.sdk.errors import MalformedMessageError, PolicyError, TruncatedMessageError
from strongroom.sdk.header import Header, parse_header
from strongroom.sdk.materials import Keyring, MaterialsManager
from strongroom.sdk.suites import AlgorithmSuite, CommitmentPolicy
from strongroom.sdk.wire import Incomplete

_MAX_FOOTER = 2 + 2 + 2 * (2 + 49)  # length prefix + DER SEQUENCE of two P-384 INTEGERs
DEFAULT_SUITE = AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384
DEFAULT_POLICY = CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT


def encrypt(
    plaintext: bytes | bytearray | memoryview,
    *,
    keyring: Keyring | None = None,
    materials_manager: MaterialsManager | None = None,
    encryption_context: Mapping[str, str] | None = None,
    algorithm_suite: AlgorithmSuite | int | None = None,
    frame_length: int = DEFAULT_FRAME_LENGTH,
    commitment_policy: CommitmentPolicy = DEFAULT_POLICY,
    max_encrypted_data_keys: int | None = None,
) -> tuple[bytes, Header]:
    """Encrypt ``plaintext`` into an ESDK message. ``frame_length=0`` writes the legacy
    non-framed body. Without ``algorithm_suite`` the policy's default is used (0x0578
    for the require policies, 0x0378 for forbid-encrypt)."""
    cmm = resolve_cmm(keyring, materials_manager)
    data = memoryview(plaintext).cast("B")
    state = begin_encryption(
        cmm,
        encryption_context=encryption_context,
        algorithm_suite=algorithm_suite,
        frame_length=frame_length,
        commitment_policy=commitment_policy,
        max_encrypted_data_keys=max_encrypted_data_keys,
        plaintext_length=len(data),
    )
    header = state.header
    hlen = len(state.header_bytes)
    total = len(data)
    if frame_length:
        body_len = framed_body_length(total, frame_length)
        if max(0, (total - 1) // frame_length) + 1 > 0xFFFFFFFE:
            raise PolicyError("plaintext needs more frames than the format allows")
    else:
        body_len = total + NON_FRAMED_OVERHEAD
    # Room for the footer up front: growing a 64 MiB bytearray afterwards would copy it.
    footer_room = _MAX_FOOTER if state.hasher is not None else 0
    out = bytearray(hlen + body_len + footer_room)
    view = memoryview(out)
    view[:hlen] = state.header_bytes
    writer = FrameWriter(state.key, header.message_id, frame_length)
    pos = hlen
    if not frame_length:
        pos += writer.non_framed(data, view[pos:])
    else:
        seq, offset = 1, 0
        while total - offset > frame_length:
            pos += writer.regular(seq, data[offset : offset + frame_length], view[pos:])
            seq += 1
            offset += frame_length
        pos += writer.final(seq, data[offset:], view[pos:])
    assert pos == hlen + body_len
    if state.hasher is not None:
        assert state.signing_key is not None
        state.hasher.update(view[hlen:pos])
        footer = serialize_footer(state.hasher.sign(state.signing_key))
        view[pos : pos + len(footer)] = footer
        pos += len(footer)
    view.release()
    del out[pos:]
    return bytes(out), header


def decrypt(
    ciphertext: bytes | bytearray | memoryview,
    *,
    keyring: Keyring | None = None,
    materials_manager: MaterialsManager | None = None,
    commitment_policy: CommitmentPolicy = DEFAULT_POLICY,
    max_encrypted_data_keys: int | None = None,
    encryption_context: Mapping[str, str] | None = None,
    max_body_length: int | None = None,
    unsigned_only: bool = False,
) -> tuple[bytes, Header]:
    """Decrypt a complete ESDK message. ``encryption_context`` is the set of pairs the
    message must carry (a reproduced context, which may also supply pairs that were
    authenticated but not stored). ``unsigned_only`` is the AWS decrypt-unsigned mode.
    Raises a ``DecryptionError`` subclass; returns nothing unless everything verified."""
    cmm = resolve_cmm(keyring, materials_manager)
    buf = memoryview(ciphertext).cast("B")
    try:
        header, pos = parse_header(buf, max_encrypted_data_keys)
    except Incomplete:
        raise TruncatedMessageError("message ends inside the header") from None
    state = begin_decryption(
        cmm,
        header,
        commitment_policy=commitment_policy,
        encryption_context=encryption_context,
        unsigned_only=unsigned_only,
    )
    body_start = pos
    reader = FrameReader(state.key, header.message_id)
    out = bytearray(max(0, len(buf) - pos))  # an upper bound on the plaintext length
    oview = memoryview(out)
    written = 0
    try:
        if not header.framed:
            frame = parse_non_framed(buf, pos, max_body_length)
            written = reader.open_into(frame, oview, framed=False)
            pos += frame.size
        else:
            flen = header.frame_length
            while True:
                frame = parse_frame(buf, pos, flen)
                pos += frame.size
                written += reader.open_into(frame, oview[written:])
                if max_body_length is not None and written > max_body_length:
                    raise PolicyError("message body exceeds the configured maximum")
                if frame.final:
                    break
        if state.hasher is not None:
            state.hasher.update(buf[body_start:pos])
            signature, used = parse_footer(buf, pos)
            pos += used
            assert state.materials.verification_key is not None
            state.hasher.verify(state.materials.verification_key, signature)
    except Incomplete:
        raise TruncatedMessageError("message ends inside the body or footer") from None
    if pos != len(buf):
        raise MalformedMessageError("trailing bytes after the end of the message")
    oview.release()
    del out[written:]
    return bytes(out), header


__all__ = ["DEFAULT_SUITE", "decrypt", "encrypt"]
