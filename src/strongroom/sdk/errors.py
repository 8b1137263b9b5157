"""The SDK's small, precise exception set.

Modelled on pyca/cryptography: a caller can tell *why* a message was refused
(malformed bytes, a failed tag, a broken commitment, a bad signature, a context
mismatch, a policy refusal, no usable key) without parsing messages. Every
decryption failure is a subclass of ``DecryptionError`` so ``except
DecryptionError`` is the one line a careless caller needs. Messages never carry
key material or plaintext.
"""

from __future__ import annotations


class SDKError(Exception):
    """Base of every error raised by ``strongroom.sdk``."""


class DecryptionError(SDKError):
    """The message could not be decrypted; nothing unauthenticated was released."""


class MalformedMessageError(DecryptionError, ValueError):
    """The bytes are not a well-formed message (bad field, truncation, trailing data)."""


class TruncatedMessageError(MalformedMessageError):
    """The message ended before a complete header, body or footer was read."""


class AuthenticationError(DecryptionError):
    """An AES-GCM tag (header, frame or body) did not verify: tampering or the wrong key."""


class CommitmentError(DecryptionError):
    """The commit key derived from the data key differs from the one in the header."""


class SignatureError(DecryptionError):
    """The ECDSA footer signature is missing or does not verify."""


class EncryptionContextError(SDKError, ValueError):
    """An encryption context is invalid (reserved key) or does not match the required one."""


class PolicyError(SDKError):
    """A configured policy refuses the operation (commitment policy, limits, signed-only)."""


class KeyringError(SDKError):
    """A keyring could not produce or unwrap a data key (configuration or KMS failure)."""


class NoDataKeyError(KeyringError, DecryptionError):
    """No keyring could decrypt any of the message's encrypted data keys."""


class DocumentFormatError(SDKError, ValueError):
    """A structured file cannot be handled in values-only mode (syntax, types, layout).

    Messages name the path or line number, never the value (it may be a secret)."""


class DocumentError(DecryptionError):
    """A values-only document failed verification: a value was modified, moved, added or
    removed, or the metadata was edited. The message says which check failed and where."""
