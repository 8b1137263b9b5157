"""Asymmetric, HMAC, key agreement and KEM operations: GetPublicKey, Sign,
Verify, GenerateMac, VerifyMac, DeriveSharedSecret, GenerateDataKeyPair
(WithoutPlaintext), Encapsulate, Decapsulate.

The cryptography is ``strongroom.crypto.kms`` (pure functions over the stored
material); this module does what KMS does around it: key lookup, key usage,
authorization with the operation's condition keys, key state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from strongroom.context import RequestContext
from strongroom.crypto import kms as kms_crypto
from strongroom.crypto.kms.errors import KmsCryptoError, as_service_error
from strongroom.crypto.kms.specs import algorithms_for
from strongroom.crypto.kms_ciphertext import encode_context
from strongroom.errors import ServiceError
from strongroom.services.kms import errors
from strongroom.services.kms.common import KmsBase, check_dry_run
from strongroom.services.kms.conditions import context_keys
from strongroom.services.kms.repository import KeyEntry
from strongroom.services.kms.states import check_usable

T = TypeVar("T")
MAX_MESSAGE = 4096


def _crypto(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except KmsCryptoError as exc:
        raise as_service_error(exc) from None


def _required(params: Mapping[str, Any], member: str, camel: str) -> Any:
    value = params.get(member)
    if value is None or value == b"":
        raise errors.validation(
            f"1 validation error detected: Value null at '{camel}' failed to satisfy "
            "constraint: Member must not be null"
        )
    return value


def _message(params: Mapping[str, Any]) -> bytes:
    message = _required(params, "Message", "message")
    if len(message) > MAX_MESSAGE:
        raise errors.validation(
            "1 validation error detected: Value at 'message' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_MESSAGE}"
        )
    return bytes(message)


def _material(entry: KeyEntry) -> bytes:
    material = entry.record.current_material()
    if material is None:  # pragma: no cover - an Enabled key has material
        raise errors.invalid_state(f"{entry.arn} is pending import.")
    return material.raw()


class AsymmetricOperations(KmsBase):
    def _use(
        self,
        ctx: RequestContext,
        params: Mapping[str, Any],
        operation: str,
        usage: str,
        extra: Mapping[str, Any] | None = None,
    ) -> KeyEntry:
        entry, alias = self.lookup(ctx, params)
        self.authorize(
            ctx,
            entry,
            operation,
            extra=extra,
            alias=alias,
            grant_operation=operation,
            grant_tokens=params.get("GrantTokens"),
        )
        check_usable(entry.record, operation)
        if entry.record.key_usage != usage:
            raise errors.invalid_key_usage(
                f"{entry.arn} key usage is {entry.record.key_usage} which is not valid for "
                f"{operation}."
            )
        check_dry_run(params)
        return entry

    def _note(self, ctx: RequestContext, entry: KeyEntry, operation: str) -> None:
        r = entry.record
        self.usage.note(r.account, r.region, r.key_id, operation, ctx.now, ctx.request_id)

    def get_public_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry, alias = self.lookup(ctx, params)
        self.authorize(
            ctx,
            entry,
            "GetPublicKey",
            alias=alias,
            grant_operation="GetPublicKey",
            grant_tokens=params.get("GrantTokens"),
        )
        check_usable(entry.record, "GetPublicKey")
        record = entry.record
        if record.key_spec == "SYMMETRIC_DEFAULT" or record.key_spec.startswith("HMAC_"):
            raise errors.unsupported(
                f"{record.arn} has key spec {record.key_spec}: it has no public key."
            )
        public = _crypto(lambda: kms_crypto.public_key_der(record.key_spec, _material(entry)))
        out: dict[str, Any] = {
            "KeyId": record.arn,
            "PublicKey": public,
            "KeySpec": record.key_spec,
            "KeyUsage": record.key_usage,
        }
        if not record.key_spec.startswith(("ML_", "ECC_NIST_EDWARDS")):
            out["CustomerMasterKeySpec"] = record.key_spec
        out.update(algorithms_for(record.key_spec, record.key_usage))
        return out

    def sign(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        message = _message(params)
        algorithm = str(_required(params, "SigningAlgorithm", "signingAlgorithm"))
        message_type = str(params.get("MessageType") or "RAW")
        entry = self._use(
            ctx,
            params,
            "Sign",
            "SIGN_VERIFY",
            {"kms:SigningAlgorithm": algorithm, "kms:MessageType": message_type},
        )
        spec = entry.record.key_spec
        signature = _crypto(
            lambda: kms_crypto.sign(spec, _material(entry), message, message_type, algorithm)
        )
        self._note(ctx, entry, "Sign")
        return {"KeyId": entry.arn, "Signature": signature, "SigningAlgorithm": algorithm}

    def verify(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        message = _message(params)
        signature = bytes(_required(params, "Signature", "signature"))
        algorithm = str(_required(params, "SigningAlgorithm", "signingAlgorithm"))
        message_type = str(params.get("MessageType") or "RAW")
        entry = self._use(
            ctx,
            params,
            "Verify",
            "SIGN_VERIFY",
            {"kms:SigningAlgorithm": algorithm, "kms:MessageType": message_type},
        )
        spec = entry.record.key_spec
        valid = _crypto(
            lambda: kms_crypto.verify(
                spec, _material(entry), message, message_type, algorithm, signature
            )
        )
        self._note(ctx, entry, "Verify")
        if not valid:
            raise ServiceError("KMSInvalidSignatureException", "The signature is not valid.")
        return {"KeyId": entry.arn, "SignatureValid": True, "SigningAlgorithm": algorithm}

    def generate_mac(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        message = _message(params)
        algorithm = str(_required(params, "MacAlgorithm", "macAlgorithm"))
        entry = self._use(
            ctx, params, "GenerateMac", "GENERATE_VERIFY_MAC", {"kms:MacAlgorithm": algorithm}
        )
        spec = entry.record.key_spec
        mac = _crypto(lambda: kms_crypto.generate_mac(spec, _material(entry), message, algorithm))
        self._note(ctx, entry, "GenerateMac")
        return {"Mac": mac, "MacAlgorithm": algorithm, "KeyId": entry.arn}

    def verify_mac(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        message = _message(params)
        mac = bytes(_required(params, "Mac", "mac"))
        algorithm = str(_required(params, "MacAlgorithm", "macAlgorithm"))
        entry = self._use(
            ctx, params, "VerifyMac", "GENERATE_VERIFY_MAC", {"kms:MacAlgorithm": algorithm}
        )
        spec = entry.record.key_spec
        valid = _crypto(
            lambda: kms_crypto.verify_mac(spec, _material(entry), message, algorithm, mac)
        )
        self._note(ctx, entry, "VerifyMac")
        if not valid:
            raise ServiceError("KMSInvalidMacException", "The MAC is not valid.")
        return {"KeyId": entry.arn, "MacValid": True, "MacAlgorithm": algorithm}

    def derive_shared_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("Recipient") is not None:
            raise errors.unsupported(
                "Recipient (AWS Nitro Enclaves attestation) is not supported by Strongroom."
            )
        algorithm = str(_required(params, "KeyAgreementAlgorithm", "keyAgreementAlgorithm"))
        peer = bytes(_required(params, "PublicKey", "publicKey"))
        entry = self._use(
            ctx,
            params,
            "DeriveSharedSecret",
            "KEY_AGREEMENT",
            {"kms:KeyAgreementAlgorithm": algorithm},
        )
        spec = entry.record.key_spec
        secret = _crypto(
            lambda: kms_crypto.derive_shared_secret(spec, _material(entry), peer, algorithm)
        )
        self._note(ctx, entry, "DeriveSharedSecret")
        return {
            "KeyId": entry.arn,
            "SharedSecret": secret,
            "KeyAgreementAlgorithm": algorithm,
            "KeyOrigin": entry.record.origin,
        }

    def encapsulate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        algorithm = str(_required(params, "EncapsulationAlgorithm", "encapsulationAlgorithm"))
        entry = self._use(ctx, params, "Encapsulate", "ENCAPSULATE_DECAPSULATE")
        spec = entry.record.key_spec
        secret, ciphertext = _crypto(
            lambda: kms_crypto.encapsulate(spec, _material(entry), algorithm)
        )
        self._note(ctx, entry, "Encapsulate")
        return {
            "KeyId": entry.arn,
            "SharedSecret": secret,
            "SharedSecretCiphertextBlob": ciphertext,
            "EncapsulationAlgorithm": algorithm,
        }

    def decapsulate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        algorithm = str(_required(params, "EncapsulationAlgorithm", "encapsulationAlgorithm"))
        blob = bytes(_required(params, "SharedSecretCiphertextBlob", "sharedSecretCiphertextBlob"))
        entry = self._use(ctx, params, "Decapsulate", "ENCAPSULATE_DECAPSULATE")
        spec = entry.record.key_spec
        secret = _crypto(lambda: kms_crypto.decapsulate(spec, _material(entry), blob, algorithm))
        self._note(ctx, entry, "Decapsulate")
        return {"KeyId": entry.arn, "SharedSecret": secret, "EncapsulationAlgorithm": algorithm}

    # -- data key pairs (under a symmetric key) ------------------------------------

    def _data_key_pair(
        self, ctx: RequestContext, params: dict[str, Any], operation: str
    ) -> tuple[dict[str, Any], bytes]:
        if params.get("Recipient") is not None:
            raise errors.unsupported(
                "Recipient (AWS Nitro Enclaves attestation) is not supported by Strongroom."
            )
        spec = str(_required(params, "KeyPairSpec", "keyPairSpec"))
        context = params.get("EncryptionContext") or None
        entry, alias = self.lookup(ctx, params)
        extra = context_keys(context)
        extra["kms:EncryptionAlgorithm"] = "SYMMETRIC_DEFAULT"
        extra["kms:DataKeyPairSpec"] = spec
        self.authorize(
            ctx,
            entry,
            operation,
            extra=extra,
            alias=alias,
            grant_operation=operation,
            context=context,
            grant_tokens=params.get("GrantTokens"),
        )
        check_usable(entry.record, operation)
        if entry.record.key_spec != "SYMMETRIC_DEFAULT" or entry.current is None:
            raise errors.invalid_key_usage(
                f"{entry.arn} key spec is {entry.record.key_spec} which is not valid for "
                f"{operation}."
            )
        check_dry_run(params)
        private, public = _crypto(lambda: kms_crypto.generate_data_key_pair(spec))
        blob = entry.current.encrypt(private, encode_context(context))
        self._note(ctx, entry, operation)
        out = {
            "PrivateKeyCiphertextBlob": blob,
            "PublicKey": public,
            "KeyId": entry.arn,
            "KeyPairSpec": spec,
            "KeyMaterialId": entry.current.material_id,
        }
        return out, private

    def generate_data_key_pair(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        out, private = self._data_key_pair(ctx, params, "GenerateDataKeyPair")
        out["PrivateKeyPlaintext"] = private
        return out

    def generate_data_key_pair_without_plaintext(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        out, _ = self._data_key_pair(ctx, params, "GenerateDataKeyPairWithoutPlaintext")
        return out
