"""SecureString values: encrypted by KMS, for the caller, as AWS does it.

("How AWS Systems Manager Parameter Store uses AWS KMS", KMS Developer Guide.)

* Standard tier: Parameter Store calls KMS ``Encrypt`` on the value and
  ``Decrypt`` to read it; the caller needs ``kms:Encrypt`` / ``kms:Decrypt``.
* Advanced tier (values up to 8 KB, beyond KMS's 4 KB ``Encrypt`` limit):
  envelope encryption. KMS ``GenerateDataKey`` gives a data key that
  encrypts the value locally (AES-256-GCM, :mod:`strongroom.crypto.envelope`);
  only the KMS-encrypted data key is kept. The caller needs
  ``kms:GenerateDataKey`` to write and ``kms:Decrypt`` to read.

Every KMS call goes through ``KmsService.call_as_service``, which authorizes
the *caller* (IAM and the key policy) with ``kms:ViaService`` =
``ssm.<region>.amazonaws.com``, and always with the encryption context
``{"PARAMETER_ARN": <arn>}`` so key policies can test
``kms:EncryptionContext:PARAMETER_ARN``. Nothing else ever sees the value
in the clear: what is stored is KMS ciphertext (itself sealed again by the
storage barrier).

Stored form (base64 of it is what GetParameter returns without decryption):
``ENC_KMS``: the KMS ciphertext blob; ``ENC_ENVELOPE``: 2-byte big-endian
length of the encrypted data key, the encrypted data key, the envelope blob.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from strongroom.context import RequestContext
from strongroom.crypto.envelope import EnvelopeError, open_sealed, seal
from strongroom.errors import ServiceError
from strongroom.services.ssm import errors
from strongroom.services.ssm.records import ENC_ENVELOPE, ENC_KMS, Version

if TYPE_CHECKING:
    from strongroom.platform import Platform
    from strongroom.services.kms import KmsService

DEFAULT_KEY = "alias/aws/ssm"
CONTEXT_KEY = "PARAMETER_ARN"

# KMS errors that mean "this key cannot be used": SSM answers InvalidKeyId.
_KEY_ERRORS = frozenset(
    {
        "NotFoundException",
        "DisabledException",
        "KMSInvalidStateException",
        "InvalidKeyUsageException",
        "InvalidArnException",
        "IncorrectKeyException",
        "KeyUnavailableException",
        "InvalidCiphertextException",
        "UnsupportedOperationException",
        # e.g. SYMMETRIC_DEFAULT asked of an asymmetric key
        "ValidationException",
    }
)


def encryption_context(arn: str) -> dict[str, str]:
    return {CONTEXT_KEY: arn}


class SecureValues:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    @property
    def kms(self) -> KmsService:
        # Looked up per call: the platform builds every service before wiring them.
        return self.platform.services["kms"]  # type: ignore[return-value]

    def _call(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.kms.call_as_service(ctx, "ssm", operation, params)
        except ServiceError as err:
            if err.code == "AccessDeniedException":
                raise ServiceError(
                    "AccessDeniedException",
                    f"{err.message} (Service: AWSKMS; Status Code: 400; Error Code: "
                    f"AccessDeniedException; Request ID: {ctx.request_id})",
                ) from None
            if err.code in _KEY_ERRORS:
                raise errors.invalid_key_id(f"{err.message} (Service: AWSKMS)") from None
            raise

    def _ensure_default_key(self, account: str, region: str) -> None:
        kms = self.kms
        if kms.repo.alias_target(account, region, DEFAULT_KEY) is None:
            kms.aws_managed_key(account, region, "ssm")

    def seal(
        self,
        ctx: RequestContext,
        owner: str,
        arn: str,
        key_id: str | None,
        plaintext: str,
        *,
        envelope: bool,
    ) -> tuple[str, str, str]:
        """Encrypt a value for ``arn``: (base64 stored form, ENC_*, key ARN)."""
        if key_id is None or key_id == DEFAULT_KEY:
            self._ensure_default_key(owner, ctx.region)
            key_id = DEFAULT_KEY
        context = encryption_context(arn)
        data = plaintext.encode()
        if not envelope:
            out = self._call(
                ctx,
                "Encrypt",
                {
                    "KeyId": key_id,
                    "Plaintext": data,
                    "EncryptionContext": context,
                    "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                },
            )
            blob: bytes = out["CiphertextBlob"]
            return base64.b64encode(blob).decode(), ENC_KMS, str(out["KeyId"])
        out = self._call(
            ctx,
            "GenerateDataKey",
            {"KeyId": key_id, "KeySpec": "AES_256", "EncryptionContext": context},
        )
        encrypted_key: bytes = out["CiphertextBlob"]
        sealed = seal(out["Plaintext"], data, _aad(context))
        stored = len(encrypted_key).to_bytes(2, "big") + encrypted_key + sealed
        return base64.b64encode(stored).decode(), ENC_ENVELOPE, str(out["KeyId"])

    def open(self, ctx: RequestContext, arn: str, version: Version) -> str:
        """Decrypt a SecureString version for the caller (needs kms:Decrypt)."""
        assert version.sealed is not None
        stored = base64.b64decode(version.sealed)
        context = encryption_context(arn)
        params: dict[str, Any] = {"EncryptionContext": context}
        if version.key_arn:
            params["KeyId"] = version.key_arn
        if version.enc == ENC_KMS:
            params["CiphertextBlob"] = stored
            return bytes(self._call(ctx, "Decrypt", params)["Plaintext"]).decode()
        size = int.from_bytes(stored[:2], "big")
        params["CiphertextBlob"] = stored[2 : 2 + size]
        data_key = self._call(ctx, "Decrypt", params)["Plaintext"]
        try:
            return open_sealed(data_key, stored[2 + size :], _aad(context)).decode()
        except EnvelopeError:
            raise errors.invalid_key_id(
                f"The stored value of {arn} does not decrypt under its data key."
            ) from None


def _aad(context: dict[str, str]) -> bytes:
    return json.dumps(context, sort_keys=True, separators=(",", ":")).encode()
