"""The steps shared by one-shot and streaming encryption/decryption (spec:
client-apis/encrypt.md "Get the encryption materials" / "Construct the header",
client-apis/decrypt.md "Get the decryption materials" / "Verify the header").

Everything here works on bytes already in memory; the callers decide where the
bytes come from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.sdk.body import MAX_FRAME_LENGTH
from strongroom.sdk.errors import AuthenticationError, EncryptionContextError, PolicyError
from strongroom.sdk.header import ContentType, Header, serialize_header_body
from strongroom.sdk.materials import (
    DecryptionMaterials,
    DecryptionRequest,
    EncryptionRequest,
    Keyring,
    MaterialsManager,
)
from strongroom.sdk.signing import MessageHasher
from strongroom.sdk.suites import (
    IV_LEN,
    AlgorithmSuite,
    CommitmentPolicy,
    check_commitment,
    derive_data_key,
)
from strongroom.sdk.wire import serialize_encryption_context

RESERVED_CONTEXT_PREFIX = "aws-crypto-"  # encrypt.md: reserved for the SDK itself
DEFAULT_FRAME_LENGTH = 4096


def resolve_cmm(
    keyring: Keyring | None, materials_manager: MaterialsManager | None
) -> MaterialsManager:
    """encrypt.md / decrypt.md: exactly one of a CMM or a keyring (wrapped in a default CMM)."""
    from strongroom.sdk.cmm.default import DefaultMaterialsManager

    if (keyring is None) == (materials_manager is None):
        raise TypeError("pass exactly one of keyring= or materials_manager=")
    if materials_manager is not None:
        return materials_manager
    assert keyring is not None
    return DefaultMaterialsManager(keyring)


def _split_context(
    context: Mapping[str, str], required: tuple[str, ...]
) -> tuple[dict[str, str], dict[str, str]]:
    """(stored in the header, authenticated only) per encrypt.md "Construct the header"."""
    stored = {k: v for k, v in context.items() if k not in required}
    auth_only = {k: v for k, v in context.items() if k in required}
    return stored, auth_only


@dataclass
class EncryptionState:
    header: Header
    header_bytes: bytes
    key: bytes
    signing_key: ec.EllipticCurvePrivateKey | None
    hasher: MessageHasher | None


def begin_encryption(
    cmm: MaterialsManager,
    *,
    encryption_context: Mapping[str, str] | None,
    algorithm_suite: AlgorithmSuite | int | None,
    frame_length: int,
    commitment_policy: CommitmentPolicy,
    max_encrypted_data_keys: int | None,
    plaintext_length: int | None,
) -> EncryptionState:
    context = dict(encryption_context or {})
    for name in context:
        if name.startswith(RESERVED_CONTEXT_PREFIX):
            raise EncryptionContextError(
                f"encryption context keys starting with {RESERVED_CONTEXT_PREFIX!r} are reserved"
            )
    if not 0 <= frame_length <= MAX_FRAME_LENGTH:
        raise ValueError("frame length must be 0 (non-framed) or 1..2^32-1")
    suite = AlgorithmSuite(algorithm_suite) if algorithm_suite is not None else None
    if suite is not None:
        commitment_policy.check_encrypt(suite)
    materials = cmm.get_encryption_materials(
        EncryptionRequest(context, commitment_policy, suite, plaintext_length)
    )
    commitment_policy.check_encrypt(materials.suite)
    if (
        max_encrypted_data_keys is not None
        and len(materials.encrypted_data_keys) > max_encrypted_data_keys
    ):
        raise PolicyError("more encrypted data keys than the configured maximum")
    if materials.plaintext_data_key is None or not materials.encrypted_data_keys:
        raise PolicyError("materials manager returned incomplete encryption materials")
    suite = materials.suite
    if suite.signed and materials.signing_key is None:
        raise PolicyError("signed algorithm suite without a signing key")
    message_id = os.urandom(suite.props.message_id_len)
    key, commit_key = derive_data_key(suite, materials.plaintext_data_key, message_id)
    stored, auth_only = _split_context(
        materials.encryption_context, materials.required_encryption_context_keys
    )
    body = serialize_header_body(
        suite,
        message_id,
        stored,
        materials.encrypted_data_keys,
        ContentType.FRAMED if frame_length else ContentType.NON_FRAMED,
        frame_length,
        commit_key or b"",
    )
    # encrypt.md: tag over header body || serialized authenticate-only context, IV all zero
    tag = AESGCM(key).encrypt(bytes(IV_LEN), b"", body + serialize_encryption_context(auth_only))
    header = Header(
        suite=suite,
        message_id=message_id,
        encryption_context=stored,  # what is on the wire, as a parsed header would show
        encrypted_data_keys=materials.encrypted_data_keys,
        content_type=ContentType.FRAMED if frame_length else ContentType.NON_FRAMED,
        frame_length=frame_length,
        suite_data=commit_key or b"",
        header_tag=tag,
        body_bytes=body,
    )
    header_bytes = header.to_bytes()
    hasher = None
    if suite.signed:
        hasher = MessageHasher(suite)
        hasher.update(header_bytes)
    return EncryptionState(header, header_bytes, key, materials.signing_key, hasher)


@dataclass
class DecryptionState:
    header: Header
    key: bytes
    materials: DecryptionMaterials
    hasher: MessageHasher | None


def begin_decryption(
    cmm: MaterialsManager,
    header: Header,
    *,
    commitment_policy: CommitmentPolicy,
    encryption_context: Mapping[str, str] | None,
    unsigned_only: bool = False,
) -> DecryptionState:
    """Everything between "header parsed" and "header verified" (decrypt.md)."""
    suite = header.suite
    if unsigned_only and suite.signed:
        raise PolicyError("signed message refused: decryption is restricted to unsigned suites")
    commitment_policy.check_decrypt(suite)  # before any keyring call
    materials = cmm.decrypt_materials(
        DecryptionRequest(
            suite,
            commitment_policy,
            header.encrypted_data_keys,
            header.encryption_context,
            dict(encryption_context) if encryption_context is not None else None,
        )
    )
    if materials.suite is not suite:
        raise PolicyError("materials manager changed the algorithm suite")
    commitment_policy.check_decrypt(materials.suite)
    assert materials.plaintext_data_key is not None
    key, commit_key = derive_data_key(suite, materials.plaintext_data_key, header.message_id)
    if suite.committing:
        check_commitment(commit_key, header.suite_data)
    _, auth_only = _split_context(
        materials.encryption_context, materials.required_encryption_context_keys
    )
    try:
        AESGCM(key).decrypt(
            header.header_iv,
            header.header_tag,
            header.body_bytes + serialize_encryption_context(auth_only),
        )
    except InvalidTag:
        raise AuthenticationError("header authentication failed") from None
    # Defence in depth: whatever CMM was used, the caller's required pairs must hold.
    for k, v in (encryption_context or {}).items():
        if materials.encryption_context.get(k) != v:
            raise EncryptionContextError("encryption context does not match the required context")
    hasher = None
    if suite.signed:
        hasher = MessageHasher(suite)
        hasher.update(header.to_bytes())
    return DecryptionState(header, key, materials, hasher)
