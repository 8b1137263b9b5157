"""KMS envelope encryption of secret values, as Secrets Manager does it.

For every version: KMS GenerateDataKey (AES_256) with the encryption context
``{"SecretARN": arn, "SecretVersionId": id}``, AES-256-GCM of the value with
the plaintext data key (:mod:`strongroom.crypto.envelope`, the helper SSM's
advanced parameters use too), and only the KMS ciphertext of the data key is
kept. Reading a version asks KMS to Decrypt that data key with the same
context. Both KMS calls go through ``KmsService.call_as_service``: they are
the caller's own requests with ``kms:ViaService`` set, so the key policy and
the caller's IAM policies decide, exactly as in AWS. The plaintext data key
lives only for the duration of one call.

The AES-GCM associated data binds the ciphertext to the secret and version
too, so a stored value moved to another secret or version cannot be opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from strongroom.context import RequestContext
from strongroom.crypto import envelope
from strongroom.errors import ServiceError
from strongroom.services.secretsmanager import errors
from strongroom.services.secretsmanager.records import VersionValue

if TYPE_CHECKING:
    from strongroom.services.kms.service import KmsService

DEFAULT_KEY_ALIAS = "alias/aws/secretsmanager"
SERVICE = "secretsmanager"


def _kms(ctx: RequestContext) -> KmsService:
    service = ctx.platform.services.get("kms")
    if service is None:  # pragma: no cover - the registry always builds KMS
        raise errors.encryption_failure("KMS is not available.")
    return cast("KmsService", service)


def _aad(arn: str, version_id: str) -> bytes:
    return f"strongroom-secretsmanager-v1\n{arn}\n{version_id}".encode()


def _context(arn: str, version_id: str) -> dict[str, str]:
    return {"SecretARN": arn, "SecretVersionId": version_id}


def _kms_call(
    ctx: RequestContext, operation: str, params: dict[str, Any], *, decrypting: bool
) -> dict[str, Any]:
    try:
        return _kms(ctx).call_as_service(ctx, SERVICE, operation, params)
    except ServiceError as exc:
        if exc.code == "AccessDeniedException":
            raise errors.kms_access_denied(exc.message) from None
        if decrypting:
            raise errors.decryption_failure(exc.message) from None
        raise errors.encryption_failure(exc.message) from None


def key_for_request(ctx: RequestContext, account: str, region: str, kms_key_id: str | None) -> str:
    """The KeyId to give KMS: the secret's key, or the AWS managed key (created on first use)."""
    if kms_key_id:
        return kms_key_id
    if account == ctx.account_id:
        _kms(ctx).aws_managed_key(account, region, SERVICE)
    # Another account's default key can never be used cross-account (its policy
    # allows only its own account); KMS says so when asked.
    return f"arn:aws:kms:{region}:{account}:{DEFAULT_KEY_ALIAS}"


def seal(
    ctx: RequestContext,
    key_id: str,
    arn: str,
    version_id: str,
    value: bytes,
    *,
    binary: bool,
) -> VersionValue:
    result = _kms_call(
        ctx,
        "GenerateDataKey",
        {"KeyId": key_id, "KeySpec": "AES_256", "EncryptionContext": _context(arn, version_id)},
        decrypting=False,
    )
    return VersionValue(
        kms_key_arn=str(result["KeyId"]),
        data_key=result["CiphertextBlob"],
        sealed=envelope.seal(result["Plaintext"], value, _aad(arn, version_id)),
        binary=binary,
    )


def open_value(ctx: RequestContext, arn: str, version_id: str, stored: VersionValue) -> bytes:
    result = _kms_call(
        ctx,
        "Decrypt",
        {
            "CiphertextBlob": stored.data_key,
            "KeyId": stored.kms_key_arn,
            "EncryptionContext": _context(arn, version_id),
        },
        decrypting=True,
    )
    try:
        return envelope.open_sealed(result["Plaintext"], stored.sealed, _aad(arn, version_id))
    except ValueError:  # EnvelopeError: tampered or moved; or a data key of another size
        raise errors.decryption_failure() from None
