"""Failures of the KMS cryptography library, each naming its AWS error code.

The library is pure (no storage, no requests), so it cannot raise the
gateway's ``ServiceError`` itself without knowing the request; instead every
failure a client can cause is a :class:`KmsCryptoError` that carries the exact
AWS code it maps to. The KMS service turns one into a ``ServiceError`` with
:func:`as_service_error`. Messages name specs, algorithms and lengths only,
never key material, plaintext or signatures.

Validation failures also subclass :class:`ValueError`, so callers that only
care "was the input acceptable" can catch that.
"""

from __future__ import annotations

from typing import ClassVar

from strongroom.errors import ServiceError

__all__ = [
    "IncorrectKeyMaterial",
    "InvalidCiphertext",
    "InvalidKeyUsage",
    "KmsCryptoError",
    "KmsValidationError",
    "UnsupportedAlgorithm",
    "as_service_error",
]


class KmsCryptoError(Exception):
    """Base class: a client-caused failure with an AWS error code."""

    aws_code: ClassVar[str] = "KMSInternalException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KmsValidationError(KmsCryptoError, ValueError):
    """Malformed input: wrong digest length, bad public key, bad combination."""

    aws_code = "ValidationException"


class InvalidKeyUsage(KmsCryptoError, ValueError):
    """The algorithm does not belong to the key spec (AWS: InvalidKeyUsageException)."""

    aws_code = "InvalidKeyUsageException"


class InvalidCiphertext(KmsCryptoError):
    """A ciphertext (or wrapped key material) could not be decrypted.

    Deliberately one message for every cause: telling a padding failure from
    a length failure would hand an attacker a decryption oracle.
    """

    aws_code = "InvalidCiphertextException"


class IncorrectKeyMaterial(KmsCryptoError, ValueError):
    """Imported key material is not valid for the key spec."""

    aws_code = "IncorrectKeyMaterialException"


class UnsupportedAlgorithm(KmsCryptoError):
    """A spec or algorithm AWS has but Strongroom cannot offer (documented).

    Not to be confused with ``cryptography.exceptions.UnsupportedAlgorithm``;
    this one is answered to the client as ``UnsupportedOperationException``.
    """

    aws_code = "UnsupportedOperationException"


def as_service_error(exc: KmsCryptoError) -> ServiceError:
    """The client-facing error for a library failure (always HTTP 400)."""
    return ServiceError(exc.aws_code, exc.message, 400)
