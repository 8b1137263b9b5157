"""Multi-keyring (spec: framework/multi-keyring.md): a generator makes the data key,
every child wraps it too; on decrypt the first keyring that succeeds wins."""

from __future__ import annotations

from collections.abc import Sequence

from strongroom.sdk.errors import KeyringError, NoDataKeyError
from strongroom.sdk.header import EncryptedDataKey
from strongroom.sdk.materials import DecryptionMaterials, EncryptionMaterials, Keyring


class MultiKeyring:
    def __init__(self, generator: Keyring | None = None, children: Sequence[Keyring] = ()) -> None:
        if generator is None and not children:
            raise ValueError("a multi-keyring needs a generator or at least one child")
        self.generator = generator
        self.children = tuple(children)

    def on_encrypt(self, materials: EncryptionMaterials) -> EncryptionMaterials:
        if self.generator is not None:
            if materials.plaintext_data_key is not None:
                raise KeyringError(
                    "multi-keyring with a generator got materials that already hold a data key"
                )
            materials = self.generator.on_encrypt(materials)
            if materials.plaintext_data_key is None:
                raise KeyringError("multi-keyring generator produced no data key")
        elif materials.plaintext_data_key is None:
            raise KeyringError("multi-keyring without a generator needs a data key to wrap")
        for child in self.children:
            materials = child.on_encrypt(materials)
        return materials

    def on_decrypt(
        self, materials: DecryptionMaterials, edks: Sequence[EncryptedDataKey]
    ) -> DecryptionMaterials:
        if materials.plaintext_data_key is not None:
            return materials
        reasons: list[str] = []
        for keyring in (self.generator, *self.children):
            if keyring is None:
                continue
            try:
                result = keyring.on_decrypt(materials, edks)
            except KeyringError as exc:  # spec: collect failures, try the next keyring
                reasons.append(str(exc))
                continue
            if result.plaintext_data_key is not None:
                return result
        raise NoDataKeyError(
            "no keyring in the multi-keyring decrypted a data key: " + "; ".join(reasons)
        )
