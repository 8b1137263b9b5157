"""The 46 published key-commitment vectors (provenance: vectors/README.md)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from strongroom import sdk
from strongroom.sdk.header import EncryptedDataKey, parse_header
from strongroom.sdk.materials import DecryptionMaterials, EncryptionMaterials
from strongroom.sdk.suites import derive_data_key

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "vectors" / "commitment-test-vectors.json").read_text()
)["tests"]


class StaticKeyring:
    """Returns the vector's plaintext data key for any encrypted data key."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def on_encrypt(self, materials: EncryptionMaterials) -> EncryptionMaterials:
        raise NotImplementedError

    def on_decrypt(
        self, materials: DecryptionMaterials, edks: Sequence[EncryptedDataKey]
    ) -> DecryptionMaterials:
        return materials.with_data_key(self.key)


def test_all_46_vectors_present() -> None:
    assert len(VECTORS) == 46
    assert sum(1 for v in VECTORS if not v["status"]) == 5


@pytest.mark.parametrize("vector", VECTORS, ids=[v["comment"] for v in VECTORS])
def test_commitment_vector(vector: dict[str, Any]) -> None:
    message = base64.b64decode(vector["ciphertext"])
    dek = base64.b64decode(vector["decrypted-dek"])
    header, _ = parse_header(message)
    assert header.message_id == base64.b64decode(vector["message-id"])
    assert dict(header.encryption_context) == vector["encryption-context"]
    enc_key, commit_key = derive_data_key(header.suite, dek, header.message_id)
    if vector["status"]:
        # Known answers: our HKDF reproduces the published content key and commit key.
        if "content-encryption-key" in vector:
            assert enc_key == base64.b64decode(vector["content-encryption-key"])
        if "commitment" in vector:
            assert commit_key == base64.b64decode(vector["commitment"])
        assert commit_key == header.suite_data
        plaintext, parsed = sdk.decrypt(message, keyring=StaticKeyring(dek))
        assert plaintext == "".join(vector["plaintext-frames"]).encode()
        assert parsed.suite.committing
    else:
        with pytest.raises(sdk.CommitmentError):
            sdk.decrypt(message, keyring=StaticKeyring(dek))
