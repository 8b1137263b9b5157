"""Values-only (SOPS-like) encryption of YAML, JSON and .env documents: each leaf value
becomes its own ESDK message, keys stay readable, and a MAC covers the whole document."""

from strongroom.sdk.documents.codec import (
    META_KEY,
    DecryptedDocument,
    decrypt_document,
    encrypt_document,
)
from strongroom.sdk.documents.formats import Document, detect_format, dump, env_value, load

__all__ = [
    "META_KEY",
    "DecryptedDocument",
    "Document",
    "decrypt_document",
    "detect_format",
    "dump",
    "encrypt_document",
    "env_value",
    "load",
]
