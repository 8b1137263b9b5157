"""Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext), GenerateRandom.

Symmetric keys use our ciphertext format (crypto/kms_ciphertext.py, see
docs/design/ciphertext.md); RSA ENCRYPT_DECRYPT keys use RSAES-OAEP through
``strongroom.crypto.kms``. This is the hot path: a symmetric Encrypt is one
cached key lookup, one authorization and one AES-GCM encryption.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from strongroom.context import RequestContext
from strongroom.crypto import kms as kms_crypto
from strongroom.crypto.kms.errors import KmsCryptoError, as_service_error
from strongroom.crypto.kms_ciphertext import InvalidCiphertext, encode_context, parse_header
from strongroom.errors import ServiceError
from strongroom.services.kms import errors
from strongroom.services.kms.common import KmsBase, check_dry_run
from strongroom.services.kms.conditions import context_keys
from strongroom.services.kms.repository import KeyEntry
from strongroom.services.kms.states import check_usable

SYMMETRIC = "SYMMETRIC_DEFAULT"
MAX_PLAINTEXT = 4096
_DATA_KEY_BYTES = {"AES_256": 32, "AES_128": 16}
_NO_CONTEXT = b"\x00\x00"


def _context(params: Mapping[str, Any], member: str = "EncryptionContext") -> dict[str, str] | None:
    value = params.get(member)
    return value if value else None


def _encoded(context: Mapping[str, str] | None) -> bytes:
    return encode_context(context) if context else _NO_CONTEXT


def _usage_error(entry: KeyEntry, operation: str) -> Exception:
    record = entry.record
    return errors.invalid_key_usage(
        f"{record.arn} key usage is {record.key_usage} which is not valid for {operation}."
    )


def _same_key(source: KeyEntry, dest_arn: str | None) -> dict[str, Any] | None:
    """kms:ReEncryptOnSameKey, for ReEncrypt's two authorizations."""
    return None if dest_arn is None else {"kms:ReEncryptOnSameKey": source.arn == dest_arn}


def _record_algorithms(ctx: RequestContext, params: Mapping[str, Any], *members: str) -> None:
    """CloudTrail's requestParameters of these operations always name the
    encryption algorithm, SYMMETRIC_DEFAULT when the request left it out."""
    ctx.audit["request_defaults"] = {
        member[0].lower() + member[1:]: params.get(member) or SYMMETRIC for member in members
    }


def _no_recipient(params: Mapping[str, Any]) -> None:
    if params.get("Recipient") is not None:
        raise errors.unsupported(
            "Recipient (AWS Nitro Enclaves attestation) is not supported by Strongroom: "
            "there is no enclave to attest."
        )


class EncryptionOperations(KmsBase):
    # -- helpers -------------------------------------------------------------

    def _crypto_key(
        self,
        ctx: RequestContext,
        entry: KeyEntry,
        alias: str | None,
        operation: str,
        params: Mapping[str, Any],
        context: Mapping[str, str] | None,
        algorithm: str,
        *,
        grant_operation: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Authorize, then check state and usage, in the order AWS reports them."""
        conditions = context_keys(context)
        conditions["kms:EncryptionAlgorithm"] = algorithm
        if extra:
            conditions.update(extra)
        self.authorize(
            ctx,
            entry,
            operation,
            extra=conditions,
            alias=alias,
            grant_operation=grant_operation or operation,
            context=context,
            grant_tokens=params.get("GrantTokens"),
        )
        check_usable(entry.record, operation)
        if entry.record.key_usage != "ENCRYPT_DECRYPT":
            raise _usage_error(entry, operation)

    def _seal(self, entry: KeyEntry, plaintext: bytes, context: Mapping[str, str] | None) -> bytes:
        if entry.current is None:  # pragma: no cover - an Enabled symmetric key has material
            raise errors.invalid_state(f"{entry.arn} has no key material.")
        return entry.current.encrypt(plaintext, _encoded(context))

    def _note(self, ctx: RequestContext, entry: KeyEntry, operation: str) -> None:
        r = entry.record
        self.usage.note(r.account, r.region, r.key_id, operation, ctx.now, ctx.request_id)

    def _encrypt_with(
        self,
        entry: KeyEntry,
        plaintext: bytes,
        context: Mapping[str, str] | None,
        algorithm: str,
    ) -> bytes:
        record = entry.record
        if record.key_spec == SYMMETRIC:
            if algorithm != SYMMETRIC:
                raise errors.invalid_key_usage(
                    f"Encryption algorithm {algorithm} is not compatible with KeySpec {SYMMETRIC}."
                )
            if len(plaintext) > MAX_PLAINTEXT:
                raise errors.validation(
                    "1 validation error detected: Value at 'plaintext' failed to satisfy "
                    f"constraint: Member must have length less than or equal to {MAX_PLAINTEXT}"
                )
            return self._seal(entry, plaintext, context)
        if context:
            raise errors.validation("EncryptionContext is not supported with asymmetric KMS keys.")
        material = record.current_material()
        assert material is not None
        try:
            return kms_crypto.encrypt(record.key_spec, material.raw(), plaintext, algorithm)
        except KmsCryptoError as exc:
            raise as_service_error(exc) from None

    def _open(
        self,
        ctx: RequestContext,
        params: Mapping[str, Any],
        *,
        operation: str,
        grant_operation: str,
        blob_member: str,
        key_member: str,
        context_member: str,
        algorithm_member: str,
        dest_arn: str | None = None,
    ) -> tuple[KeyEntry, bytes, str, str | None]:
        """Decrypt's and ReEncrypt's source side: (key, plaintext, algorithm, material id)."""
        blob = params.get(blob_member)
        if not isinstance(blob, bytes) or not blob:
            raise errors.invalid_ciphertext()
        algorithm = params.get(algorithm_member) or SYMMETRIC
        context = _context(params, context_member)
        named: KeyEntry | None = None
        alias: str | None = None
        if params.get(key_member) is not None:
            ref = self.ref(ctx, params.get(key_member))
            named = self.entry_for(ref)
            alias = ref.alias
        if algorithm == SYMMETRIC and (named is None or named.record.key_spec == SYMMETRIC):
            try:
                header = parse_header(blob)
            except InvalidCiphertext:
                raise errors.invalid_ciphertext() from None
            entry = self.repo.entry(header.account, ctx.region, header.key_id)
            if entry is None:
                raise errors.invalid_ciphertext()
            if named is not None and named.arn != entry.arn:
                raise errors.incorrect_key(
                    "The key ID in the request does not identify a CMK that can perform "
                    "this operation."
                )
            self._crypto_key(
                ctx,
                entry,
                alias,
                operation,
                params,
                context,
                algorithm,
                grant_operation=grant_operation,
                extra=_same_key(entry, dest_arn),
            )
            backing = entry.backing.get(header.material_id)
            if backing is None:
                raise errors.invalid_ciphertext()
            try:
                plaintext = backing.decrypt(blob, _encoded(context))
            except InvalidCiphertext:
                raise errors.invalid_ciphertext() from None
            return entry, plaintext, algorithm, header.material_id
        if named is None:
            raise errors.validation(
                f"{key_member} is required when {algorithm_member} is not {SYMMETRIC}."
            )
        self._crypto_key(
            ctx,
            named,
            alias,
            operation,
            params,
            context,
            algorithm,
            grant_operation=grant_operation,
            extra=_same_key(named, dest_arn),
        )
        record = named.record
        if record.key_spec == SYMMETRIC:
            raise errors.invalid_key_usage(
                f"Encryption algorithm {algorithm} is not compatible with KeySpec {SYMMETRIC}."
            )
        if context:
            raise errors.validation("EncryptionContext is not supported with asymmetric KMS keys.")
        material = record.current_material()
        assert material is not None
        try:
            plaintext = kms_crypto.decrypt(record.key_spec, material.raw(), blob, algorithm)
        except KmsCryptoError as exc:
            raise as_service_error(exc) from None
        return named, plaintext, algorithm, None

    # -- operations ----------------------------------------------------------

    def encrypt(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _record_algorithms(ctx, params, "EncryptionAlgorithm")
        entry, alias = self.lookup(ctx, params)
        plaintext = params.get("Plaintext")
        if not isinstance(plaintext, bytes) or not plaintext:
            raise errors.validation(
                "1 validation error detected: Value at 'plaintext' failed to satisfy "
                "constraint: Member must have length greater than or equal to 1"
            )
        context = _context(params)
        algorithm = params.get("EncryptionAlgorithm") or SYMMETRIC
        self._crypto_key(ctx, entry, alias, "Encrypt", params, context, algorithm)
        check_dry_run(params)
        blob = self._encrypt_with(entry, plaintext, context, algorithm)
        self._note(ctx, entry, "Encrypt")
        return {"CiphertextBlob": blob, "KeyId": entry.arn, "EncryptionAlgorithm": algorithm}

    def decrypt(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _record_algorithms(ctx, params, "EncryptionAlgorithm")
        _no_recipient(params)
        entry, plaintext, algorithm, material_id = self._open(
            ctx,
            params,
            operation="Decrypt",
            grant_operation="Decrypt",
            blob_member="CiphertextBlob",
            key_member="KeyId",
            context_member="EncryptionContext",
            algorithm_member="EncryptionAlgorithm",
        )
        check_dry_run(params)
        self._note(ctx, entry, "Decrypt")
        out: dict[str, Any] = {
            "KeyId": entry.arn,
            "Plaintext": plaintext,
            "EncryptionAlgorithm": algorithm,
        }
        if material_id is not None:
            out["KeyMaterialId"] = material_id
        return out

    def re_encrypt(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _record_algorithms(
            ctx, params, "SourceEncryptionAlgorithm", "DestinationEncryptionAlgorithm"
        )
        dest_ref = self.ref(ctx, params.get("DestinationKeyId"))
        dest = self.entry_for(dest_ref)
        source, plaintext, source_algorithm, source_material = self._open(
            ctx,
            params,
            operation="ReEncryptFrom",
            grant_operation="ReEncryptFrom",
            blob_member="CiphertextBlob",
            key_member="SourceKeyId",
            context_member="SourceEncryptionContext",
            algorithm_member="SourceEncryptionAlgorithm",
            dest_arn=dest.arn,
        )
        dest_context = _context(params, "DestinationEncryptionContext")
        dest_algorithm = params.get("DestinationEncryptionAlgorithm") or SYMMETRIC
        same = source.arn == dest.arn
        self._crypto_key(
            ctx,
            dest,
            dest_ref.alias,
            "ReEncryptTo",
            params,
            dest_context,
            dest_algorithm,
            extra={"kms:ReEncryptOnSameKey": same},
        )
        check_dry_run(params)
        blob = self._encrypt_with(dest, plaintext, dest_context, dest_algorithm)
        self._note(ctx, source, "ReEncrypt")
        self._note(ctx, dest, "ReEncrypt")
        out: dict[str, Any] = {
            "CiphertextBlob": blob,
            "SourceKeyId": source.arn,
            "KeyId": dest.arn,
            "SourceEncryptionAlgorithm": source_algorithm,
            "DestinationEncryptionAlgorithm": dest_algorithm,
        }
        if source_material is not None:
            out["SourceKeyMaterialId"] = source_material
        if dest.current is not None and dest.record.key_spec == SYMMETRIC:
            out["DestinationKeyMaterialId"] = dest.current.material_id
        return out

    def _data_key(
        self, ctx: RequestContext, params: dict[str, Any], operation: str
    ) -> tuple[KeyEntry, bytes, bytes]:
        entry, alias = self.lookup(ctx, params)
        spec = params.get("KeySpec")
        count = params.get("NumberOfBytes")
        if spec is None and count is None:
            raise errors.validation("Please specify either number of bytes or key spec.")
        if spec is not None and count is not None:
            raise errors.validation("Please specify either number of bytes or key spec, not both.")
        if spec is not None:
            if spec not in _DATA_KEY_BYTES:
                raise errors.value_error(
                    "keySpec", spec, "Member must satisfy enum value set: [AES_256, AES_128]"
                )
            size = _DATA_KEY_BYTES[spec]
        else:
            if not isinstance(count, int) or not 1 <= count <= 1024:
                raise errors.value_error(
                    "numberOfBytes", count, "Member must have value between 1 and 1024"
                )
            size = count
        context = _context(params)
        self._crypto_key(ctx, entry, alias, operation, params, context, SYMMETRIC)
        if entry.record.key_spec != SYMMETRIC:
            raise errors.invalid_key_usage(
                f"{entry.arn} key spec is {entry.record.key_spec} which is not valid for "
                f"{operation}."
            )
        check_dry_run(params)
        plaintext = os.urandom(size)
        blob = self._seal(entry, plaintext, context)
        self._note(ctx, entry, operation)
        return entry, plaintext, blob

    def generate_data_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _no_recipient(params)
        entry, plaintext, blob = self._data_key(ctx, params, "GenerateDataKey")
        assert entry.current is not None
        return {
            "CiphertextBlob": blob,
            "Plaintext": plaintext,
            "KeyId": entry.arn,
            "KeyMaterialId": entry.current.material_id,
        }

    def generate_data_key_without_plaintext(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        entry, _, blob = self._data_key(ctx, params, "GenerateDataKeyWithoutPlaintext")
        assert entry.current is not None
        return {
            "CiphertextBlob": blob,
            "KeyId": entry.arn,
            "KeyMaterialId": entry.current.material_id,
        }

    def generate_random(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _no_recipient(params)
        store_id = params.get("CustomKeyStoreId")
        if store_id is not None:
            raise ServiceError(
                "CustomKeyStoreNotFoundException",
                f"Custom key store {store_id} does not exist.",
            )
        count = params.get("NumberOfBytes")
        if not isinstance(count, int) or not 1 <= count <= 1024:
            raise errors.value_error(
                "numberOfBytes", count, "Member must have value between 1 and 1024"
            )
        ctx.authorize("kms:GenerateRandom", "*")
        return {"Plaintext": os.urandom(count)}
