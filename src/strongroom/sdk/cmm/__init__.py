"""Cryptographic materials managers: default, caching, required-encryption-context."""

from strongroom.sdk.cmm.caching import CachingMaterialsManager, LocalMaterialsCache
from strongroom.sdk.cmm.default import DefaultMaterialsManager
from strongroom.sdk.cmm.required import RequiredEncryptionContextMaterialsManager

__all__ = [
    "CachingMaterialsManager",
    "DefaultMaterialsManager",
    "LocalMaterialsCache",
    "RequiredEncryptionContextMaterialsManager",
]
