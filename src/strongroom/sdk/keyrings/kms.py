"""AWS KMS keyrings over any boto3 KMS client (spec: framework/aws-kms/aws-kms-keyring.md,
aws-kms-discovery-keyring.md, aws-kms-mrk-match-for-decrypt.md, aws-kms-key-arn.md).

The EDK's provider id is "aws-kms" and its provider info is the key ARN that KMS
returned, so a message written here decrypts with the official SDK and back.
The client is whatever boto3 built, so ``endpoint_url``/``AWS_ENDPOINT_URL_KMS``
decide whether it talks to Strongroom or to AWS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from strongroom.sdk.errors import KeyringError, NoDataKeyError
from strongroom.sdk.header import EncryptedDataKey
from strongroom.sdk.materials import DecryptionMaterials, EncryptionMaterials

PROVIDER_ID = "aws-kms"


@dataclass(frozen=True, slots=True)
class KmsArn:
    """aws-kms-key-arn.md: arn:partition:kms:region:account:(key|alias)/id."""

    partition: str
    region: str
    account: str
    resource_type: str
    resource_id: str

    @classmethod
    def parse(cls, text: str) -> KmsArn:
        parts = text.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "kms":
            raise ValueError(f"not a KMS ARN: {text!r}")
        _, partition, _, region, account, resource = parts
        rtype, _, rid = resource.partition("/")
        if not all((partition, region, account, rid)) or rtype not in ("key", "alias"):
            raise ValueError(f"not a KMS ARN: {text!r}")
        return cls(partition, region, account, rtype, rid)

    @property
    def is_mrk(self) -> bool:
        return self.resource_type == "key" and self.resource_id.startswith("mrk-")

    def __str__(self) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{self.account}:{self.resource_type}/{self.resource_id}"


def mrk_match(a: str, b: str) -> bool:
    """aws-kms-mrk-match-for-decrypt.md: equal ids, or the same MRK in different regions."""
    if a == b:
        return True
    try:
        x, y = KmsArn.parse(a), KmsArn.parse(b)
    except ValueError:
        return False
    if not (x.is_mrk and y.is_mrk):
        return False
    return (x.partition, x.account, x.resource_id) == (y.partition, y.account, y.resource_id)


def _call(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = getattr(client, operation)(**params)
        return result
    except Exception as exc:
        response = getattr(exc, "response", None)
        code = response.get("Error", {}).get("Code", "") if isinstance(response, dict) else ""
        raise KeyringError(f"KMS {operation} failed: {code or type(exc).__name__}") from None


def _check_response_key(response: dict[str, Any], operation: str) -> str:
    key_id = response.get("KeyId")
    if not isinstance(key_id, str):
        raise KeyringError(f"KMS {operation} returned no KeyId")
    try:
        KmsArn.parse(key_id)
    except ValueError:
        raise KeyringError(f"KMS {operation} returned a KeyId that is not a key ARN") from None
    return key_id


class AwsKmsKeyring:
    """Strict mode: encrypts and decrypts only with the configured key."""

    def __init__(self, client: Any, key_id: str, *, grant_tokens: Sequence[str] = ()) -> None:
        if not key_id:
            raise ValueError("a KMS keyring needs a key id")
        self.client = client
        self.key_id = key_id
        self.grant_tokens = list(grant_tokens)

    def on_encrypt(self, materials: EncryptionMaterials) -> EncryptionMaterials:
        context = dict(materials.encryption_context)
        if materials.plaintext_data_key is None:
            response = _call(
                self.client,
                "generate_data_key",
                KeyId=self.key_id,
                NumberOfBytes=materials.suite.props.key_len,
                EncryptionContext=context,
                GrantTokens=self.grant_tokens,
            )
            arn = _check_response_key(response, "GenerateDataKey")
            plaintext = response.get("Plaintext")
            if not isinstance(plaintext, bytes) or len(plaintext) != materials.suite.props.key_len:
                raise KeyringError("KMS GenerateDataKey returned a data key of the wrong length")
            materials = materials.with_data_key(plaintext)
        else:
            response = _call(
                self.client,
                "encrypt",
                KeyId=self.key_id,
                Plaintext=materials.plaintext_data_key,
                EncryptionContext=context,
                GrantTokens=self.grant_tokens,
            )
            arn = _check_response_key(response, "Encrypt")
        blob = response.get("CiphertextBlob")
        if not isinstance(blob, bytes):
            raise KeyringError("KMS returned no CiphertextBlob")
        return materials.with_edk(EncryptedDataKey(PROVIDER_ID, arn.encode("utf-8"), blob))

    def on_decrypt(
        self, materials: DecryptionMaterials, edks: Sequence[EncryptedDataKey]
    ) -> DecryptionMaterials:
        if materials.plaintext_data_key is not None:
            return materials
        errors: list[str] = []
        for edk in edks:
            if edk.provider_id != PROVIDER_ID:
                continue
            try:
                arn = edk.provider_info.decode("utf-8")
                KmsArn.parse(arn)
            except (UnicodeDecodeError, ValueError):
                continue
            if not mrk_match(self.key_id, arn):
                continue
            try:
                return _decrypt_edk(self.client, self.key_id, edk, materials, self.grant_tokens)
            except KeyringError as exc:
                errors.append(str(exc))
        raise NoDataKeyError(
            "KMS keyring decrypted no data key" + (": " + "; ".join(errors) if errors else "")
        )


def _decrypt_edk(
    client: Any,
    key_id: str,
    edk: EncryptedDataKey,
    materials: DecryptionMaterials,
    grants: list[str],
) -> DecryptionMaterials:
    response = _call(
        client,
        "decrypt",
        KeyId=key_id,
        CiphertextBlob=edk.ciphertext,
        EncryptionContext=dict(materials.encryption_context),
        GrantTokens=grants,
    )
    # aws-kms-keyring.md: the response KeyId MUST equal the key we asked for
    if response.get("KeyId") != key_id:
        raise KeyringError("KMS Decrypt answered with a different key")
    plaintext = response.get("Plaintext")
    if not isinstance(plaintext, bytes) or len(plaintext) != materials.suite.props.key_len:
        raise KeyringError("KMS Decrypt returned a data key of the wrong length")
    return materials.with_data_key(plaintext, edk)


@dataclass(frozen=True, slots=True)
class DiscoveryFilter:
    """aws-kms-discovery-keyring.md "Discovery Filter": only these accounts in this partition."""

    partition: str
    account_ids: tuple[str, ...]

    def allows(self, arn: KmsArn) -> bool:
        return arn.partition == self.partition and arn.account in self.account_ids


class AwsKmsDiscoveryKeyring:
    """Discovery mode: decrypts with whichever KMS key wrapped the data key; never encrypts.

    ``client_for_region`` lets a caller route each EDK to its key's region; without
    it every call goes to ``client``. With ``region`` set, multi-region keys from
    other regions are redirected to their replica in ``region``.
    """

    def __init__(
        self,
        client: Any,
        *,
        discovery_filter: DiscoveryFilter | None = None,
        region: str | None = None,
        client_for_region: Callable[[str], Any] | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> None:
        self.client = client
        self.discovery_filter = discovery_filter
        self.region = region
        self.client_for_region = client_for_region
        self.grant_tokens = list(grant_tokens)

    def on_encrypt(self, materials: EncryptionMaterials) -> EncryptionMaterials:
        raise KeyringError("a KMS discovery keyring cannot encrypt")

    def on_decrypt(
        self, materials: DecryptionMaterials, edks: Sequence[EncryptedDataKey]
    ) -> DecryptionMaterials:
        if materials.plaintext_data_key is not None:
            return materials
        errors: list[str] = []
        for edk in edks:
            if edk.provider_id != PROVIDER_ID:
                continue
            try:
                arn = KmsArn.parse(edk.provider_info.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                continue
            if arn.resource_type != "key":
                continue
            if self.discovery_filter is not None and not self.discovery_filter.allows(arn):
                continue
            target = arn
            if arn.is_mrk and self.region is not None and arn.region != self.region:
                target = KmsArn(arn.partition, self.region, arn.account, "key", arn.resource_id)
            client = (
                self.client_for_region(target.region) if self.client_for_region else self.client
            )
            try:
                return _decrypt_edk(client, str(target), edk, materials, self.grant_tokens)
            except KeyringError as exc:
                errors.append(str(exc))
        raise NoDataKeyError(
            "KMS discovery keyring decrypted no data key"
            + (": " + "; ".join(errors) if errors else "")
        )
