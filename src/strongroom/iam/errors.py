"""The IAM and STS error codes, with the HTTP statuses from the botocore models.

IAM and STS speak the Query protocol, so codes are the short names in the
models' ``error.code`` (``NoSuchEntity``, not ``NoSuchEntityException``).
Messages follow AWS's wording where it is known; they never carry secrets.
"""

from __future__ import annotations

from strongroom.errors import ServiceError


def no_such_entity(message: str) -> ServiceError:
    return ServiceError("NoSuchEntity", message, 404)


def already_exists(message: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", message, 409)


def delete_conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflict", message, 409)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceeded", message, 409)


def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


def malformed_policy(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocument", message, 400)


def validation(message: str) -> ServiceError:
    # Query-protocol services answer parameter-constraint failures with
    # ``ValidationError`` (JSON services say ``ValidationException``).
    return ServiceError("ValidationError", message, 400)


def access_denied(message: str) -> ServiceError:
    return ServiceError("AccessDenied", message, 403)


def packed_policy_too_large(message: str) -> ServiceError:
    return ServiceError("PackedPolicyTooLarge", message, 400)
