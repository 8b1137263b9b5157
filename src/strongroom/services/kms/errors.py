"""KMS errors, with the codes and (where known) the wording AWS KMS uses."""

from __future__ import annotations

from strongroom.errors import ServiceError


def not_found(message: str) -> ServiceError:
    return ServiceError("NotFoundException", message)


def key_not_found(arn: str) -> ServiceError:
    return not_found(f"Key '{arn}' does not exist")


def alias_not_found(alias_arn: str) -> ServiceError:
    return not_found(f"Alias {alias_arn} is not found.")


def invalid_key_id(value: str) -> ServiceError:
    return not_found(f"Invalid keyId '{value}'")


def invalid_arn(message: str) -> ServiceError:
    return ServiceError("InvalidArnException", message)


def disabled(arn: str) -> ServiceError:
    return ServiceError("DisabledException", f"{arn} is disabled.")


def invalid_state(message: str) -> ServiceError:
    return ServiceError("KMSInvalidStateException", message)


def invalid_key_usage(message: str) -> ServiceError:
    return ServiceError("InvalidKeyUsageException", message)


def invalid_ciphertext(message: str = "") -> ServiceError:
    # AWS answers a bad symmetric ciphertext with no detail at all; we say as little.
    return ServiceError("InvalidCiphertextException", message or "The ciphertext is invalid.")


def incorrect_key(message: str) -> ServiceError:
    return ServiceError("IncorrectKeyException", message)


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def unsupported(message: str) -> ServiceError:
    return ServiceError("UnsupportedOperationException", message)


def malformed_policy(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocumentException", message)


def already_exists(message: str) -> ServiceError:
    return ServiceError("AlreadyExistsException", message)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceededException", message)


def invalid_alias_name(message: str) -> ServiceError:
    return ServiceError("InvalidAliasNameException", message)


def invalid_marker() -> ServiceError:
    return ServiceError("InvalidMarkerException", "Invalid marker")


def tag_error(message: str) -> ServiceError:
    return ServiceError("TagException", message)


def invalid_grant_token() -> ServiceError:
    return ServiceError("InvalidGrantTokenException", "Invalid grant token")


def invalid_grant_id(message: str = "Invalid grant id") -> ServiceError:
    return ServiceError("InvalidGrantIdException", message)


def dry_run() -> ServiceError:
    # What AWS answers when DryRun is true and the request would have succeeded.
    return ServiceError(
        "DryRunOperationException",
        "The request would have succeeded, but the DryRun option is set.",
        412,
    )


def value_error(member: str, value: object, constraint: str) -> ServiceError:
    """One model-style validation failure (as the protocol layer words them)."""
    return validation(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )
