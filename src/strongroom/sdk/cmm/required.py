"""Required-encryption-context CMM (spec: framework/required-encryption-context-cmm.md).

Keys listed here must be present on encrypt and are then *authenticated but not
stored* in the message; decrypt must be given them again (the reproduced context).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from strongroom.sdk.errors import EncryptionContextError
from strongroom.sdk.materials import (
    DecryptionMaterials,
    DecryptionRequest,
    EncryptionMaterials,
    EncryptionRequest,
    MaterialsManager,
)


class RequiredEncryptionContextMaterialsManager:
    def __init__(self, underlying: MaterialsManager, required_keys: Iterable[str]) -> None:
        self.underlying = underlying
        self.required_keys = tuple(required_keys)
        if not self.required_keys:
            raise ValueError("at least one required encryption context key")

    def get_encryption_materials(self, request: EncryptionRequest) -> EncryptionMaterials:
        missing = [k for k in self.required_keys if k not in request.encryption_context]
        if missing:
            raise EncryptionContextError("encryption context lacks a required key")
        materials = self.underlying.get_encryption_materials(request)
        merged = tuple(
            dict.fromkeys((*materials.required_encryption_context_keys, *self.required_keys))
        )
        if any(k not in materials.encryption_context for k in merged):
            raise EncryptionContextError("materials lost a required encryption context key")
        return replace(materials, required_encryption_context_keys=merged)

    def decrypt_materials(self, request: DecryptionRequest) -> DecryptionMaterials:
        reproduced = request.reproduced_encryption_context or {}
        if any(k not in reproduced for k in self.required_keys):
            raise EncryptionContextError("reproduced encryption context lacks a required key")
        materials = self.underlying.decrypt_materials(request)
        if any(
            k not in materials.required_encryption_context_keys
            for k in self.required_keys
            if k not in request.encryption_context
        ):
            raise EncryptionContextError("materials do not authenticate the required keys")
        return materials
