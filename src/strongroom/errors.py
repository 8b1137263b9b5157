"""Errors are values with AWS codes.

Every failure a client can cause is a :class:`ServiceError`; the gateway is
the one place where it becomes an AWS-shaped response for the protocol of
the service that was called. Anything else that escapes an operation is an
internal failure: logged with its trace, answered as ``InternalFailure``.
"""

from __future__ import annotations

from enum import Enum


class ServiceError(Exception):
    """An error with an AWS error code, answered to the client as such.

    ``sender_fault`` decides ``Sender``/``Receiver`` in Query-protocol errors.
    The message is shown to the client: it must never contain secrets.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        sender_fault: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"ServiceError({self.code!r}, {self.message!r}, {self.status})"


def validation_error(message: str) -> ServiceError:
    """A JSON-protocol validation failure (``ValidationException``)."""
    return ServiceError("ValidationException", message, 400)


def access_denied(message: str, *, code: str = "AccessDeniedException") -> ServiceError:
    return ServiceError(code, message, 400 if code == "AccessDeniedException" else 403)


def internal_failure(request_id: str) -> ServiceError:
    return ServiceError(
        "InternalFailure",
        f"The request processing has failed because of an unknown error. Request id: {request_id}",
        500,
        sender_fault=False,
    )


def not_implemented(service: str, operation: str) -> ServiceError:
    return ServiceError(
        "NotImplemented",
        f"{service}:{operation} is not implemented by Strongroom yet; "
        "docs/api-coverage.md lists what is.",
        501,
        sender_fault=False,
    )


class AuthFailureKind(Enum):
    """Authentication failures, named independently of the protocol.

    AWS names the same failure differently per protocol (JSON services say
    ``UnrecognizedClientException`` where Query services say
    ``InvalidClientTokenId``); the gateway maps a kind to the right code.
    """

    MISSING = "missing"  # no Authorization header / presigned params
    INCOMPLETE = "incomplete"  # malformed Authorization header or query
    UNKNOWN_KEY = "unknown_key"  # access key id not known
    BAD_SIGNATURE = "bad_signature"
    REQUEST_EXPIRED = "request_expired"  # clock skew > 15 min, or presign expired
    TOKEN_EXPIRED = "token_expired"  # STS session expired
    INVALID_TOKEN = "invalid_token"  # session token missing/wrong for ASIA keys


class AuthFailure(Exception):
    def __init__(self, kind: AuthFailureKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# code and HTTP status by protocol family: (json, query)
_AUTH_CODES: dict[AuthFailureKind, tuple[tuple[str, int], tuple[str, int]]] = {
    AuthFailureKind.MISSING: (
        ("MissingAuthenticationTokenException", 400),
        ("MissingAuthenticationToken", 403),
    ),
    AuthFailureKind.INCOMPLETE: (
        ("IncompleteSignatureException", 400),
        ("IncompleteSignature", 400),
    ),
    AuthFailureKind.UNKNOWN_KEY: (
        ("UnrecognizedClientException", 400),
        ("InvalidClientTokenId", 403),
    ),
    AuthFailureKind.BAD_SIGNATURE: (
        ("InvalidSignatureException", 400),
        ("SignatureDoesNotMatch", 403),
    ),
    AuthFailureKind.REQUEST_EXPIRED: (
        ("InvalidSignatureException", 400),
        ("SignatureDoesNotMatch", 403),
    ),
    AuthFailureKind.TOKEN_EXPIRED: (("ExpiredTokenException", 400), ("ExpiredToken", 403)),
    AuthFailureKind.INVALID_TOKEN: (
        ("UnrecognizedClientException", 400),
        ("InvalidClientTokenId", 403),
    ),
}


def auth_error(failure: AuthFailure, protocol: str) -> ServiceError:
    """Translate an authentication failure into the code the protocol uses."""
    json_code, query_code = _AUTH_CODES[failure.kind]
    code, status = query_code if protocol == "query" else json_code
    return ServiceError(code, failure.message, status)
