"""Imported key material: GetParametersForImport, ImportKeyMaterial,
DeleteImportedKeyMaterial (KMS Developer Guide, "Importing key material").

The wrapping private key of each GetParametersForImport call is kept in the
sealed store under ``kms/import/<account>/<region>/<key id>/<token id>`` for
the 24 hours its import token is valid. The import token names that record;
it is not secret (the wrapping private key never leaves the store).
"""

from __future__ import annotations

import base64
import hmac
import json
import os
from datetime import datetime, timedelta
from typing import Any

from strongroom.context import RequestContext
from strongroom.crypto import kms as kms_crypto
from strongroom.crypto.kms.errors import KmsCryptoError, as_service_error
from strongroom.crypto.kms_ciphertext import new_material_id
from strongroom.errors import ServiceError
from strongroom.services.kms import errors
from strongroom.services.kms import records as rec
from strongroom.services.kms.common import KmsBase
from strongroom.services.kms.records import KeyRecord, KeyState, Material
from strongroom.services.kms.repository import KeyEntry, KmsTxn
from strongroom.services.kms.states import check_state

IMPORTS = "kms/import/"
TOKEN_LIFETIME = timedelta(hours=24)
_TOKEN_VERSION = "1"


def _import_path(account: str, region: str, key_id: str, token_id: str) -> str:
    return f"{IMPORTS}{account}/{region}/{key_id}/{token_id}"


def _invalid_token() -> ServiceError:
    return ServiceError(
        "InvalidImportTokenException", "The import token is not valid for this KMS key."
    )


def _parse_token(token: bytes, record: KeyRecord) -> str:
    try:
        body = json.loads(base64.b64decode(token, validate=True))
        if body.get("v") != _TOKEN_VERSION:
            raise ValueError("version")
        if (body["a"], body["r"], body["k"]) != (record.account, record.region, record.key_id):
            raise ValueError("another key")
        token_id = body["t"]
        if not isinstance(token_id, str) or len(token_id) != 32:
            raise ValueError("token id")
        return token_id
    except (ValueError, KeyError, TypeError):
        raise _invalid_token() from None


def _crypto_error(exc: KmsCryptoError) -> ServiceError:
    return as_service_error(exc)


class ImportOperations(KmsBase):
    def _external(self, ctx: RequestContext, params: dict[str, Any], operation: str) -> KeyEntry:
        entry, _ = self.lookup(ctx, params, allow_alias=False)
        self.require_same_account(ctx, entry)
        return entry

    @staticmethod
    def _require_external(entry: KeyEntry) -> None:
        if entry.record.origin != "EXTERNAL":
            raise errors.unsupported(
                f"{entry.arn} has origin {entry.record.origin}: only keys with origin "
                "EXTERNAL take imported key material."
            )

    def get_parameters_for_import(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        entry = self._external(ctx, params, "GetParametersForImport")
        algorithm = str(params.get("WrappingAlgorithm") or "")
        wrapping_spec = str(params.get("WrappingKeySpec") or "")
        self.authorize(
            ctx,
            entry,
            "GetParametersForImport",
            extra={"kms:WrappingAlgorithm": algorithm, "kms:WrappingKeySpec": wrapping_spec},
        )
        self._require_external(entry)
        check_state(entry.record, "GetParametersForImport")
        record = entry.record
        try:
            kms_crypto.check_wrapping_parameters(record.key_spec, algorithm, wrapping_spec)
            private, public = kms_crypto.new_wrapping_key(wrapping_spec)
        except KmsCryptoError as exc:
            raise _crypto_error(exc) from None
        token_id = os.urandom(16).hex()
        valid_to = ctx.now + TOKEN_LIFETIME
        stored = {
            "private": base64.b64encode(private).decode(),
            "algorithm": algorithm,
            "valid_to": rec.iso(valid_to),
        }
        self.repo.store.put(
            _import_path(record.account, record.region, record.key_id, token_id),
            json.dumps(stored).encode(),
        )
        token = {
            "v": _TOKEN_VERSION,
            "a": record.account,
            "r": record.region,
            "k": record.key_id,
            "t": token_id,
        }
        return {
            "KeyId": record.arn,
            "ImportToken": base64.b64encode(json.dumps(token).encode()),
            "PublicKey": public,
            "ParametersValidTo": valid_to,
        }

    def import_key_material(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._external(ctx, params, "ImportKeyMaterial")
        expiration = str(params.get("ExpirationModel") or "KEY_MATERIAL_EXPIRES")
        valid_to_param = params.get("ValidTo")
        extra: dict[str, Any] = {"kms:ExpirationModel": expiration}
        if isinstance(valid_to_param, datetime):
            extra["kms:ValidTo"] = int(valid_to_param.timestamp())
        self.authorize(ctx, entry, "ImportKeyMaterial", extra=extra)
        self._require_external(entry)
        check_state(entry.record, "ImportKeyMaterial")
        if expiration == "KEY_MATERIAL_EXPIRES" and not isinstance(valid_to_param, datetime):
            raise errors.validation("A ValidTo date is required when the key material expires.")
        if expiration == "KEY_MATERIAL_DOES_NOT_EXPIRE" and valid_to_param is not None:
            raise errors.validation(
                "ValidTo is not allowed when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE."
            )
        valid_to = rec.iso(valid_to_param) if isinstance(valid_to_param, datetime) else None
        if valid_to is not None and valid_to <= rec.iso(ctx.now):
            raise errors.validation("ValidTo must be in the future.")
        record = entry.record
        token = params.get("ImportToken")
        if not isinstance(token, bytes):
            raise _invalid_token()
        token_id = _parse_token(token, record)
        path = _import_path(record.account, record.region, record.key_id, token_id)
        raw = self.repo.store.get(path)
        if raw is None:
            raise _invalid_token()
        stored = json.loads(raw)
        if stored["valid_to"] <= rec.iso(ctx.now):
            raise ServiceError("ExpiredImportTokenException", "The import token has expired.")
        wrapped = params.get("EncryptedKeyMaterial")
        if not isinstance(wrapped, bytes) or not wrapped:
            raise errors.invalid_ciphertext()
        try:
            plain = kms_crypto.unwrap_key_material(
                base64.b64decode(stored["private"]), stored["algorithm"], wrapped
            )
            material = kms_crypto.validate_imported_material(record.key_spec, plain)
        except KmsCryptoError as exc:
            raise _crypto_error(exc) from None
        import_type = params.get("ImportType")
        description = params.get("KeyMaterialDescription")
        material_id_param = params.get("KeyMaterialId")
        now = rec.iso(ctx.now)

        def change(record: KeyRecord, txn: KmsTxn) -> Material:
            known = [m for m in record.materials if m.imported]
            same = next(
                (m for m in known if m.secret and hmac.compare_digest(m.raw(), material)), None
            )
            target: Material | None = None
            if material_id_param is not None:
                target = record.material(str(material_id_param))
                if target is None:
                    raise errors.not_found(f"Key material {material_id_param} does not exist.")
            elif same is not None:
                target = same
            elif known and import_type != "NEW_KEY_MATERIAL":
                # Re-importing: only the key's own material may come back.
                target = known[-1]
            if target is not None:
                if target.secret is not None and not hmac.compare_digest(target.raw(), material):
                    raise ServiceError(
                        "IncorrectKeyMaterialException",
                        "The key material does not match the key material previously imported "
                        "into this KMS key.",
                    )
                if target.secret is None and target.fingerprint_mismatch(material):
                    raise ServiceError(
                        "IncorrectKeyMaterialException",
                        "The key material does not match the key material previously imported "
                        "into this KMS key.",
                    )
            else:
                target = Material(id=new_material_id(), secret=None, created=now, imported=True)
                if known and record.key_spec == "SYMMETRIC_DEFAULT":
                    # New material for an on-demand rotation (RotateKeyOnDemand makes it current).
                    target.rotation_type = "PENDING_ROTATION"
                elif known:
                    raise errors.unsupported(
                        f"{record.arn} has key spec {record.key_spec}: only symmetric keys "
                        "take new key material."
                    )
                record.materials.append(target)
            target.secret = Material.encode(material)
            target.remember(material)
            txn.delete_due(rec.DUE_EXPIRE, target.valid_to, record)
            target.valid_to = valid_to
            target.expiration_model = expiration
            if description is not None:
                target.description = str(description)
            if valid_to is not None:
                txn.put_due(rec.DUE_EXPIRE, valid_to, record)
            current = record.current_material()
            record.valid_to = current.valid_to if current else valid_to
            record.expiration_model = current.expiration_model if current else expiration
            if record.state == KeyState.PENDING_IMPORT.value and current is not None:
                record.state = KeyState.ENABLED.value
            return target

        imported: list[Material] = []

        def apply(record: KeyRecord, txn: KmsTxn) -> None:
            imported.append(change(record, txn))
            txn.txn.delete(path)  # an import token is good for one import

        record = self.update_key(entry, "ImportKeyMaterial", apply)
        return {"KeyId": record.arn, "KeyMaterialId": imported[0].id}

    def delete_imported_key_material(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        entry = self._external(ctx, params, "DeleteImportedKeyMaterial")
        self.authorize(ctx, entry, "DeleteImportedKeyMaterial")
        self._require_external(entry)
        check_state(entry.record, "DeleteImportedKeyMaterial")
        wanted = params.get("KeyMaterialId")
        deleted: list[str] = []

        def change(record: KeyRecord, txn: KmsTxn) -> None:
            for material in record.materials:
                if wanted is not None and material.id != wanted:
                    continue
                if material.secret is not None:
                    material.secret = None
                    deleted.append(material.id)
                txn.delete_due(rec.DUE_EXPIRE, material.valid_to, record)
                material.valid_to = None
            if wanted is not None and not any(m.id == wanted for m in record.materials):
                raise errors.not_found(f"Key material {wanted} does not exist.")
            if record.current_material() is None and record.state in (
                KeyState.ENABLED.value,
                KeyState.DISABLED.value,
            ):
                record.state = KeyState.PENDING_IMPORT.value
            record.valid_to = None

        record = self.update_key(entry, "DeleteImportedKeyMaterial", change)
        kms_crypto.clear_cache()
        return {"KeyId": record.arn, "KeyMaterialId": deleted[-1] if deleted else ""}
