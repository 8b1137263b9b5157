"""Secrets Manager errors: AWS's codes, and AWS's wording where it is known.

Messages never contain a secret value; they may name a secret (names and
ARNs are not secret: they appear in CloudTrail and in policies).
"""

from __future__ import annotations

from strongroom.errors import ServiceError

MARKED_FOR_DELETION = (
    "You can't perform this operation on the secret because it was marked for deletion."
)
ALREADY_DELETED = "You tried to perform the operation on a secret that's currently marked deleted."
REPLICA_READ_ONLY = (
    "Operation not permitted on a replica secret. Call must be made in primary secret's region."
)
IMMUTABLE_VERSION = "You can't modify an existing version, you can only create a new version."


def not_found(message: str = "Secrets Manager can't find the specified secret.") -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


def no_value_for_stage(stage: str) -> ServiceError:
    return not_found(
        f"Secrets Manager can't find the specified secret value for staging label: {stage}"
    )


def no_value_for_version(version_id: str) -> ServiceError:
    return not_found(
        f"Secrets Manager can't find the specified secret value for VersionId: {version_id}"
    )


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequestException", message)


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


def exists(message: str) -> ServiceError:
    return ServiceError("ResourceExistsException", message)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceededException", message)


def malformed_policy(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocumentException", message)


def public_policy() -> ServiceError:
    return ServiceError(
        "PublicPolicyException",
        "The BlockPublicPolicy parameter is set to true, and the resource policy did not "
        "prevent broad access to the secret.",
    )


def invalid_next_token() -> ServiceError:
    return ServiceError("InvalidNextTokenException", "The NextToken value is invalid.")


def encryption_failure(detail: str = "") -> ServiceError:
    message = (
        "Secrets Manager can't encrypt the protected secret text using the provided KMS key. "
        "Check that the KMS key is available, enabled, and not in an invalid state."
    )
    return ServiceError("EncryptionFailure", f"{message} {detail}".strip())


def decryption_failure(detail: str = "") -> ServiceError:
    message = "Secrets Manager can't decrypt the protected secret text using the provided KMS key."
    return ServiceError("DecryptionFailure", f"{message} {detail}".strip())


def kms_access_denied(detail: str) -> ServiceError:
    # What AWS answers when the caller lacks a permission on the KMS key;
    # KMS's own sentence (which names the caller and the key) follows.
    return ServiceError("AccessDeniedException", f"Access to KMS is not allowed. {detail}".strip())


def precondition(message: str) -> ServiceError:
    return ServiceError("PreconditionNotMetException", message)


def cannot_invoke_rotator() -> ServiceError:
    return ServiceError(
        "AccessDeniedException",
        "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function "
        "policy grants access to the principal secretsmanager.amazonaws.com. (Strongroom: "
        "register the rotator with `strongroom rotators add`.)",
    )
