"""Default CMM (spec: framework/default-cmm.md): picks the suite, adds the signing
key's public half to the context, and asks one keyring for the data key."""

from __future__ import annotations

from strongroom.sdk.errors import (
    EncryptionContextError,
    KeyringError,
    MalformedMessageError,
    NoDataKeyError,
)
from strongroom.sdk.materials import (
    DecryptionMaterials,
    DecryptionRequest,
    EncryptionMaterials,
    EncryptionRequest,
    Keyring,
)
from strongroom.sdk.signing import (
    PUBLIC_KEY_CONTEXT_KEY,
    decode_public_key,
    encode_public_key,
    generate_signing_key,
)


class DefaultMaterialsManager:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def get_encryption_materials(self, request: EncryptionRequest) -> EncryptionMaterials:
        suite = request.suite or request.commitment_policy.default_suite
        request.commitment_policy.check_encrypt(suite)
        context = dict(request.encryption_context)
        if PUBLIC_KEY_CONTEXT_KEY in context:
            raise EncryptionContextError(
                f"encryption context must not contain {PUBLIC_KEY_CONTEXT_KEY!r}"
            )
        signing_key = None
        if suite.signed:
            signing_key = generate_signing_key(suite)
            context[PUBLIC_KEY_CONTEXT_KEY] = encode_public_key(signing_key.public_key())
        materials = EncryptionMaterials(suite, context, signing_key=signing_key)
        materials = self.keyring.on_encrypt(materials)
        if materials.plaintext_data_key is None or not materials.encrypted_data_keys:
            raise KeyringError("the keyring produced no data key or no encrypted data key")
        return materials

    def decrypt_materials(self, request: DecryptionRequest) -> DecryptionMaterials:
        suite = request.suite
        request.commitment_policy.check_decrypt(suite)
        context = dict(request.encryption_context)
        required: list[str] = []
        # default-cmm.md "Decrypt Materials": every reproduced pair must match the stored
        # one; pairs absent from the message are authenticated only (required keys).
        for key, value in (request.reproduced_encryption_context or {}).items():
            if key in context:
                if context[key] != value:
                    raise EncryptionContextError(
                        "encryption context does not match the reproduced context"
                    )
            else:
                context[key] = value
                required.append(key)
        verification_key = None
        if suite.signed:
            encoded = context.get(PUBLIC_KEY_CONTEXT_KEY)
            if encoded is None:
                raise MalformedMessageError(
                    "signed message has no public key in its encryption context"
                )
            verification_key = decode_public_key(suite, encoded)
        elif PUBLIC_KEY_CONTEXT_KEY in context:
            raise MalformedMessageError("unsigned message carries a signature public key")
        materials = DecryptionMaterials(
            suite,
            context,
            verification_key=verification_key,
            required_encryption_context_keys=tuple(required),
        )
        materials = self.keyring.on_decrypt(materials, request.encrypted_data_keys)
        if materials.plaintext_data_key is None:
            raise NoDataKeyError("no keyring decrypted a data key")
        return materials
