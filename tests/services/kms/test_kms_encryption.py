"""Symmetric Encrypt, Decrypt, ReEncrypt, GenerateDataKey*, GenerateRandom."""

from __future__ import annotations

import pytest
from tests.services.kms.kms_support import KmsEnv
from tests.support.fake_platform import ACCOUNT


@pytest.fixture()
def key_id(kms: KmsEnv) -> str:
    return str(kms.key()["KeyId"])


def test_round_trip_without_key_id(kms: KmsEnv, key_id: str) -> None:
    out = kms.call("Encrypt", KeyId=key_id, Plaintext=b"secret")
    assert out["KeyId"] == f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}"
    assert out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert b"secret" not in out["CiphertextBlob"]
    plain = kms.call("Decrypt", CiphertextBlob=out["CiphertextBlob"])
    assert plain["Plaintext"] == b"secret"
    assert plain["KeyId"] == out["KeyId"]
    assert plain["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    md = kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]
    assert plain["KeyMaterialId"] == md["CurrentKeyMaterialId"]
    # Decrypt with the right KeyId, in any spelling, works too.
    kms.call("CreateAlias", AliasName="alias/k", TargetKeyId=key_id)
    for ref in (key_id, out["KeyId"], "alias/k"):
        assert kms.call("Decrypt", CiphertextBlob=out["CiphertextBlob"], KeyId=ref)["Plaintext"]


def test_each_encryption_is_fresh(kms: KmsEnv, key_id: str) -> None:
    blobs = {
        kms.call("Encrypt", KeyId=key_id, Plaintext=b"same")["CiphertextBlob"] for _ in range(5)
    }
    assert len(blobs) == 5


def test_encryption_context_is_authenticated(kms: KmsEnv, key_id: str) -> None:
    ctx = {"purpose": "test", "tenant": "a"}
    blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"p", EncryptionContext=ctx)[
        "CiphertextBlob"
    ]
    # Member order does not matter ...
    reordered = {"tenant": "a", "purpose": "test"}
    assert (
        kms.call("Decrypt", CiphertextBlob=blob, EncryptionContext=reordered)["Plaintext"] == b"p"
    )
    # ... but every pair does.
    for wrong in ({}, {"purpose": "test"}, {**ctx, "extra": "x"}, {**ctx, "tenant": "b"}):
        err = kms.error("Decrypt", CiphertextBlob=blob, EncryptionContext=wrong)
        assert err.code == "InvalidCiphertextException"


def test_every_bit_flip_is_rejected(kms: KmsEnv, key_id: str) -> None:
    blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"abc")["CiphertextBlob"]
    for i in range(len(blob)):
        for bit in (0x01, 0x80):
            flipped = bytearray(blob)
            flipped[i] ^= bit
            err = kms.error("Decrypt", CiphertextBlob=bytes(flipped))
            assert err.code == "InvalidCiphertextException", (i, bit)
    for truncated in (blob[:-1], blob[:10], b"\x01"):
        assert kms.error("Decrypt", CiphertextBlob=truncated).code == "InvalidCiphertextException"


def test_wrong_key_id_is_incorrect_key(kms: KmsEnv, key_id: str) -> None:
    other = kms.key()["KeyId"]
    blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"abc")["CiphertextBlob"]
    err = kms.error("Decrypt", CiphertextBlob=blob, KeyId=other)
    assert err.code == "IncorrectKeyException"


def test_plaintext_limit(kms: KmsEnv, key_id: str) -> None:
    assert kms.call("Encrypt", KeyId=key_id, Plaintext=b"x" * 4096)["CiphertextBlob"]
    assert kms.error("Encrypt", KeyId=key_id, Plaintext=b"x" * 4097).code == "ValidationException"
    assert kms.error("Encrypt", KeyId=key_id, Plaintext=b"").code == "ValidationException"


def test_decrypt_states(kms: KmsEnv, key_id: str) -> None:
    blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"abc")["CiphertextBlob"]
    kms.call("DisableKey", KeyId=key_id)
    assert kms.error("Decrypt", CiphertextBlob=blob).code == "DisabledException"
    kms.call("EnableKey", KeyId=key_id)
    kms.call("ScheduleKeyDeletion", KeyId=key_id)
    assert kms.error("Decrypt", CiphertextBlob=blob).code == "KMSInvalidStateException"


def test_ciphertext_is_bound_to_its_region(kms: KmsEnv, key_id: str) -> None:
    blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"abc")["CiphertextBlob"]
    err = kms.error("Decrypt", CiphertextBlob=blob, region="eu-west-1")
    assert err.code == "InvalidCiphertextException"


def test_unsupported_algorithm_for_symmetric(kms: KmsEnv, key_id: str) -> None:
    err = kms.error("Encrypt", KeyId=key_id, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    assert err.code == "InvalidKeyUsageException"


def test_dry_run(kms: KmsEnv, key_id: str) -> None:
    err = kms.error("Encrypt", KeyId=key_id, Plaintext=b"x", DryRun=True)
    assert err.code == "DryRunOperationException"


def test_re_encrypt(kms: KmsEnv, key_id: str) -> None:
    dest = kms.key()["Arn"]
    blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"move me", EncryptionContext={"a": "1"})[
        "CiphertextBlob"
    ]
    out = kms.call(
        "ReEncrypt",
        CiphertextBlob=blob,
        SourceEncryptionContext={"a": "1"},
        DestinationKeyId=dest,
        DestinationEncryptionContext={"b": "2"},
    )
    assert out["SourceKeyId"].endswith(key_id) and out["KeyId"] == dest
    assert out["SourceEncryptionAlgorithm"] == out["DestinationEncryptionAlgorithm"]
    assert len(out["SourceKeyMaterialId"]) == len(out["DestinationKeyMaterialId"]) == 64
    plain = kms.call("Decrypt", CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"b": "2"})
    assert plain["Plaintext"] == b"move me" and plain["KeyId"] == dest
    err = kms.error("ReEncrypt", CiphertextBlob=blob, DestinationKeyId=dest)
    assert err.code == "InvalidCiphertextException"  # source context missing
    err = kms.error(
        "ReEncrypt",
        CiphertextBlob=blob,
        SourceEncryptionContext={"a": "1"},
        SourceKeyId=dest,
        DestinationKeyId=dest,
    )
    assert err.code == "IncorrectKeyException"


def test_generate_data_key(kms: KmsEnv, key_id: str) -> None:
    out = kms.call("GenerateDataKey", KeyId=key_id, KeySpec="AES_256", EncryptionContext={"x": "y"})
    assert len(out["Plaintext"]) == 32
    assert out["KeyId"].endswith(key_id)
    plain = kms.call("Decrypt", CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"x": "y"})
    assert plain["Plaintext"] == out["Plaintext"]
    assert len(kms.call("GenerateDataKey", KeyId=key_id, KeySpec="AES_128")["Plaintext"]) == 16
    assert len(kms.call("GenerateDataKey", KeyId=key_id, NumberOfBytes=7)["Plaintext"]) == 7
    assert kms.error("GenerateDataKey", KeyId=key_id).code == "ValidationException"
    err = kms.error("GenerateDataKey", KeyId=key_id, KeySpec="AES_256", NumberOfBytes=32)
    assert err.code == "ValidationException"
    assert kms.error("GenerateDataKey", KeyId=key_id, NumberOfBytes=1025).code == (
        "ValidationException"
    )


def test_generate_data_key_without_plaintext(kms: KmsEnv, key_id: str) -> None:
    out = kms.call("GenerateDataKeyWithoutPlaintext", KeyId=key_id, NumberOfBytes=64)
    assert "Plaintext" not in out
    assert len(kms.call("Decrypt", CiphertextBlob=out["CiphertextBlob"])["Plaintext"]) == 64


def test_generate_random(kms: KmsEnv) -> None:
    a = kms.call("GenerateRandom", NumberOfBytes=1024)["Plaintext"]
    b = kms.call("GenerateRandom", NumberOfBytes=1024)["Plaintext"]
    assert len(a) == 1024 and a != b
    for bad in (0, 1025, None):
        assert kms.error("GenerateRandom", NumberOfBytes=bad).code == "ValidationException"
    err = kms.error("GenerateRandom", NumberOfBytes=8, CustomKeyStoreId="cks-1")
    assert err.code == "CustomKeyStoreNotFoundException"
    err = kms.error("GenerateRandom", NumberOfBytes=8, Recipient={"AttestationDocument": b"x"})
    assert err.code == "UnsupportedOperationException"


def test_encrypt_by_alias_sets_request_alias(kms: KmsEnv, key_id: str) -> None:
    kms.call("CreateAlias", AliasName="alias/app", TargetKeyId=key_id)
    out = kms.call("Encrypt", KeyId="alias/app", Plaintext=b"x")
    assert out["KeyId"].endswith(key_id)
