"""Keyrings and materials managers, including the KMS keyrings over a fake KMS client."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom import sdk
from strongroom.sdk import CommitmentPolicy
from strongroom.sdk.keyrings.kms import mrk_match

ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-0000-0000-0000-000000000000"
OTHER = "arn:aws:kms:us-east-1:444455556666:key/99999999-0000-0000-0000-000000000000"


class FakeKms:
    """Just enough of a boto3 KMS client: AES-GCM under one key per ARN, context as AAD."""

    def __init__(self, *arns: str) -> None:
        self.keys = {arn: AESGCM.generate_key(256) for arn in arns}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _aad(self, context: dict[str, str]) -> bytes:
        return repr(sorted(context.items())).encode()

    def generate_data_key(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("GenerateDataKey", kw))
        plaintext = os.urandom(kw["NumberOfBytes"])
        return {
            "KeyId": kw["KeyId"],
            "Plaintext": plaintext,
            **self.encrypt(
                KeyId=kw["KeyId"],
                Plaintext=plaintext,
                EncryptionContext=kw["EncryptionContext"],
                _log=False,
            ),
        }

    def encrypt(self, _log: bool = True, **kw: Any) -> dict[str, Any]:
        if _log:
            self.calls.append(("Encrypt", kw))
        arn = kw["KeyId"]
        nonce = os.urandom(12)
        blob = (
            arn.encode()
            + b"|"
            + nonce
            + AESGCM(self.keys[arn]).encrypt(
                nonce, kw["Plaintext"], self._aad(kw["EncryptionContext"])
            )
        )
        return {"KeyId": arn, "CiphertextBlob": blob}

    def decrypt(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(("Decrypt", kw))
        arn, _, rest = kw["CiphertextBlob"].partition(b"|")
        if kw.get("KeyId") not in (None, arn.decode()):
            raise _ClientError("IncorrectKeyException")
        try:
            plaintext = AESGCM(self.keys[arn.decode()]).decrypt(
                rest[:12], rest[12:], self._aad(kw["EncryptionContext"])
            )
        except Exception:
            raise _ClientError("InvalidCiphertextException") from None
        return {"KeyId": arn.decode(), "Plaintext": plaintext}


class _ClientError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


def test_kms_strict_round_trip_and_provider_info() -> None:
    kms = FakeKms(ARN)
    keyring = sdk.AwsKmsKeyring(kms, ARN)
    message, header = sdk.encrypt(b"data", keyring=keyring, encryption_context={"tenant": "a"})
    (edk,) = header.encrypted_data_keys
    assert edk.provider_id == "aws-kms" and edk.provider_info == ARN.encode()
    assert kms.calls[0][0] == "GenerateDataKey"
    assert kms.calls[0][1]["EncryptionContext"]["tenant"] == "a"
    assert "aws-crypto-public-key" in kms.calls[0][1]["EncryptionContext"]
    assert sdk.decrypt(message, keyring=keyring)[0] == b"data"
    assert kms.calls[-1][0] == "Decrypt" and kms.calls[-1][1]["KeyId"] == ARN


def test_kms_multi_keyring_uses_encrypt_for_children() -> None:
    kms = FakeKms(ARN, OTHER)
    keyring = sdk.MultiKeyring(
        generator=sdk.AwsKmsKeyring(kms, ARN), children=[sdk.AwsKmsKeyring(kms, OTHER)]
    )
    message, header = sdk.encrypt(b"x", keyring=keyring)
    assert [c[0] for c in kms.calls] == ["GenerateDataKey", "Encrypt"]
    assert [e.provider_info for e in header.encrypted_data_keys] == [ARN.encode(), OTHER.encode()]
    assert sdk.decrypt(message, keyring=sdk.AwsKmsKeyring(kms, OTHER))[0] == b"x"


def test_kms_strict_ignores_other_keys() -> None:
    kms = FakeKms(ARN, OTHER)
    message, _ = sdk.encrypt(b"x", keyring=sdk.AwsKmsKeyring(kms, ARN))
    with pytest.raises(sdk.NoDataKeyError):
        sdk.decrypt(message, keyring=sdk.AwsKmsKeyring(kms, OTHER))


def test_kms_discovery_filter() -> None:
    kms = FakeKms(ARN)
    message, _ = sdk.encrypt(b"x", keyring=sdk.AwsKmsKeyring(kms, ARN))
    allowed = sdk.DiscoveryFilter("aws", ("111122223333",))
    assert (
        sdk.decrypt(message, keyring=sdk.AwsKmsDiscoveryKeyring(kms, discovery_filter=allowed))[0]
        == b"x"
    )
    for denied in (
        sdk.DiscoveryFilter("aws", ("999999999999",)),
        sdk.DiscoveryFilter("aws-cn", ("111122223333",)),
    ):
        with pytest.raises(sdk.NoDataKeyError):
            sdk.decrypt(message, keyring=sdk.AwsKmsDiscoveryKeyring(kms, discovery_filter=denied))
    with pytest.raises(sdk.KeyringError):
        sdk.encrypt(b"x", keyring=sdk.AwsKmsDiscoveryKeyring(kms))


def test_kms_error_codes_surface_without_secrets() -> None:
    kms = FakeKms(ARN)
    message, _ = sdk.encrypt(
        b"x", keyring=sdk.AwsKmsKeyring(kms, ARN), encryption_context={"a": "1"}
    )
    kms.keys[ARN] = AESGCM.generate_key(256)  # the key changed: KMS refuses
    with pytest.raises(sdk.NoDataKeyError, match="InvalidCiphertextException"):
        sdk.decrypt(message, keyring=sdk.AwsKmsKeyring(kms, ARN))


def test_mrk_match() -> None:
    a = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234"
    assert mrk_match(a, "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234")
    assert not mrk_match(a, "arn:aws:kms:eu-west-1:111122223333:key/mrk-9999")
    assert not mrk_match(ARN, ARN.replace("us-east-1", "eu-west-1"))


def test_raw_aes_rejects_bad_keys_and_reserved_namespace() -> None:
    with pytest.raises(ValueError):
        sdk.RawAesKeyring("ns", "n", bytes(20))
    with pytest.raises(ValueError):
        sdk.RawAesKeyring("aws-kms", "n", bytes(32))


def test_raw_aes_provider_info_layout() -> None:
    _, header = sdk.encrypt(b"x", keyring=sdk.RawAesKeyring("ns", "my-key", bytes(32)))
    info = header.encrypted_data_keys[0].provider_info
    assert info[:6] == b"my-key"
    assert info[6:14] == (128).to_bytes(4, "big") + (12).to_bytes(4, "big")  # tag bits, IV length
    assert len(info) == 6 + 8 + 12


def test_context_mismatch_and_reserved_prefix() -> None:
    keyring = sdk.RawAesKeyring("ns", "n", bytes(32))
    message, _ = sdk.encrypt(b"x", keyring=keyring, encryption_context={"a": "1"})
    assert sdk.decrypt(message, keyring=keyring, encryption_context={"a": "1"})[0] == b"x"
    with pytest.raises(sdk.EncryptionContextError):
        sdk.decrypt(message, keyring=keyring, encryption_context={"a": "2"})
    with pytest.raises(sdk.DecryptionError):  # an unknown extra pair fails header authentication
        sdk.decrypt(message, keyring=keyring, encryption_context={"b": "2"})
    with pytest.raises(sdk.EncryptionContextError):
        sdk.encrypt(b"x", keyring=keyring, encryption_context={"aws-crypto-x": "1"})


def test_commitment_policies() -> None:
    keyring = sdk.RawAesKeyring("ns", "n", bytes(32))
    legacy, header = sdk.encrypt(
        b"x", keyring=keyring, commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    )
    assert header.suite.value == 0x0378
    with pytest.raises(sdk.PolicyError):
        sdk.decrypt(legacy, keyring=keyring)  # REQUIRE_ENCRYPT_REQUIRE_DECRYPT is the default
    assert (
        sdk.decrypt(
            legacy,
            keyring=keyring,
            commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
        )[0]
        == b"x"
    )
    with pytest.raises(sdk.PolicyError):
        sdk.encrypt(b"x", keyring=keyring, algorithm_suite=0x0078)
    with pytest.raises(sdk.PolicyError):
        sdk.encrypt(
            b"x",
            keyring=keyring,
            algorithm_suite=0x0478,
            commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
        )
    assert sdk.encrypt(b"x", keyring=keyring)[1].suite.value == 0x0578


def test_max_encrypted_data_keys() -> None:
    keyring = sdk.MultiKeyring(
        sdk.RawAesKeyring("ns", "a", bytes(32)), [sdk.RawAesKeyring("ns", "b", bytes(32))]
    )
    message, _ = sdk.encrypt(b"x", keyring=keyring)
    assert sdk.decrypt(message, keyring=keyring, max_encrypted_data_keys=2)[0] == b"x"
    with pytest.raises(sdk.PolicyError):
        sdk.decrypt(message, keyring=keyring, max_encrypted_data_keys=1)
    with pytest.raises(sdk.PolicyError):
        sdk.encrypt(b"x", keyring=keyring, max_encrypted_data_keys=1)


def test_unsigned_only_mode() -> None:
    keyring = sdk.RawAesKeyring("ns", "n", bytes(32))
    signed, _ = sdk.encrypt(b"x", keyring=keyring)
    unsigned, _ = sdk.encrypt(b"x", keyring=keyring, algorithm_suite=0x0478)
    assert sdk.decrypt(unsigned, keyring=keyring, unsigned_only=True)[0] == b"x"
    with pytest.raises(sdk.PolicyError):
        sdk.decrypt(signed, keyring=keyring, unsigned_only=True)


def test_caching_cmm_limits() -> None:
    kms = FakeKms(ARN)
    cache = sdk.LocalMaterialsCache(capacity=10)
    cmm = sdk.CachingMaterialsManager(
        sdk.DefaultMaterialsManager(sdk.AwsKmsKeyring(kms, ARN)),
        cache,
        max_age=60,
        max_messages_encrypted=3,
        max_bytes_encrypted=10_000,
    )
    for _ in range(3):
        sdk.encrypt(b"x" * 10, materials_manager=cmm, encryption_context={"p": "1"})
    assert [c[0] for c in kms.calls].count("GenerateDataKey") == 1
    sdk.encrypt(
        b"x" * 10, materials_manager=cmm, encryption_context={"p": "1"}
    )  # 4th message: new key
    assert [c[0] for c in kms.calls].count("GenerateDataKey") == 2
    sdk.encrypt(b"x" * 10, materials_manager=cmm, encryption_context={"p": "2"})  # other partition
    assert [c[0] for c in kms.calls].count("GenerateDataKey") == 3
    sdk.encrypt(
        b"x" * 20_000, materials_manager=cmm, encryption_context={"p": "2"}
    )  # over max bytes
    assert [c[0] for c in kms.calls].count("GenerateDataKey") == 4
    message, _ = sdk.encrypt(b"y", materials_manager=cmm)
    for _ in range(3):
        assert sdk.decrypt(message, materials_manager=cmm)[0] == b"y"
    assert [c[0] for c in kms.calls].count("Decrypt") == 1


def test_caching_cmm_max_age() -> None:
    now = [0.0]
    kms = FakeKms(ARN)
    cache = sdk.LocalMaterialsCache(clock=lambda: now[0])
    cmm = sdk.CachingMaterialsManager(
        sdk.DefaultMaterialsManager(sdk.AwsKmsKeyring(kms, ARN)), cache, max_age=5
    )
    sdk.encrypt(b"x", materials_manager=cmm)
    sdk.encrypt(b"x", materials_manager=cmm)
    now[0] = 6.0
    sdk.encrypt(b"x", materials_manager=cmm)
    assert [c[0] for c in kms.calls].count("GenerateDataKey") == 2


def test_required_encryption_context_cmm() -> None:
    keyring = sdk.RawAesKeyring("ns", "n", bytes(32))
    cmm = sdk.RequiredEncryptionContextMaterialsManager(
        sdk.DefaultMaterialsManager(keyring), ["tenant"]
    )
    with pytest.raises(sdk.EncryptionContextError):
        sdk.encrypt(b"x", materials_manager=cmm, encryption_context={"other": "1"})
    message, header = sdk.encrypt(
        b"x", materials_manager=cmm, encryption_context={"tenant": "t1", "other": "1"}
    )
    assert "tenant" not in header.encryption_context  # authenticated, not stored
    with pytest.raises(sdk.EncryptionContextError):
        sdk.decrypt(message, materials_manager=cmm)
    with pytest.raises(sdk.DecryptionError):  # the keyring's AAD covers the full context
        sdk.decrypt(message, keyring=keyring, encryption_context={"tenant": "t2"})
    assert (
        sdk.decrypt(message, materials_manager=cmm, encryption_context={"tenant": "t1"})[0] == b"x"
    )
    assert sdk.decrypt(message, keyring=keyring, encryption_context={"tenant": "t1"})[0] == b"x"
