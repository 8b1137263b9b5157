"""Asymmetric, HMAC, ECDH and KEM keys through the service, checked independently
with ``cryptography`` (the public key from GetPublicKey), and imported material."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from tests.services.kms.kms_support import KmsEnv

from strongroom.crypto.kms import wrap_key_material
from strongroom.errors import ServiceError


def _public(kms: KmsEnv, key_id: str) -> object:
    der = kms.call("GetPublicKey", KeyId=key_id)["PublicKey"]
    return serialization.load_der_public_key(der)


@pytest.mark.parametrize(
    ("spec", "algorithm"),
    [("RSA_2048", "RSASSA_PSS_SHA_256"), ("ECC_NIST_P256", "ECDSA_SHA_256")],
)
def test_sign_verify_checked_by_cryptography(kms: KmsEnv, spec: str, algorithm: str) -> None:
    md = kms.key(KeySpec=spec, KeyUsage="SIGN_VERIFY")
    assert algorithm in md["SigningAlgorithms"] and "EncryptionAlgorithms" not in md
    sig = kms.call("Sign", KeyId=md["KeyId"], Message=b"hello", SigningAlgorithm=algorithm)
    assert sig["KeyId"] == md["Arn"] and sig["SigningAlgorithm"] == algorithm
    public = _public(kms, md["KeyId"])
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(
            sig["Signature"],
            b"hello",
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256(),
        )
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(sig["Signature"], b"hello", ec.ECDSA(hashes.SHA256()))
    ok = kms.call(
        "Verify",
        KeyId=md["KeyId"],
        Message=b"hello",
        Signature=sig["Signature"],
        SigningAlgorithm=algorithm,
    )
    assert ok["SignatureValid"] is True
    err = kms.error(
        "Verify",
        KeyId=md["KeyId"],
        Message=b"other",
        Signature=sig["Signature"],
        SigningAlgorithm=algorithm,
    )
    assert err.code == "KMSInvalidSignatureException"


def test_asymmetric_errors(kms: KmsEnv) -> None:
    signing = kms.key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyId"]
    symmetric = kms.key()["KeyId"]
    err = kms.error("Encrypt", KeyId=signing, Plaintext=b"x")
    assert err.code == "InvalidKeyUsageException"
    err = kms.error("Sign", KeyId=symmetric, Message=b"x", SigningAlgorithm="ECDSA_SHA_256")
    assert err.code == "InvalidKeyUsageException"
    err = kms.error("Sign", KeyId=signing, Message=b"x", SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert err.code == "InvalidKeyUsageException"
    assert kms.error("GetPublicKey", KeyId=symmetric).code == "UnsupportedOperationException"
    kms.call("DisableKey", KeyId=signing)
    assert kms.error("GetPublicKey", KeyId=signing).code == "DisabledException"


def test_rsa_encryption_from_outside(kms: KmsEnv) -> None:
    md = kms.key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    assert md["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    public = _public(kms, md["KeyId"])
    assert isinstance(public, rsa.RSAPublicKey)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    blob = public.encrypt(b"made outside", oaep)
    out = kms.call(
        "Decrypt", CiphertextBlob=blob, KeyId=md["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_256"
    )
    assert out["Plaintext"] == b"made outside"
    assert out["EncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    inside = kms.call(
        "Encrypt", KeyId=md["KeyId"], Plaintext=b"in", EncryptionAlgorithm="RSAES_OAEP_SHA_1"
    )["CiphertextBlob"]
    back = kms.call(
        "Decrypt", CiphertextBlob=inside, KeyId=md["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_1"
    )
    assert back["Plaintext"] == b"in"
    err = kms.error("Decrypt", CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert err.code == "ValidationException"  # KeyId is required for asymmetric ciphertexts
    err = kms.error(
        "Decrypt", CiphertextBlob=blob, KeyId=md["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_1"
    )
    assert err.code == "InvalidCiphertextException"
    err = kms.error(
        "Encrypt",
        KeyId=md["KeyId"],
        Plaintext=b"x" * 191,
        EncryptionAlgorithm="RSAES_OAEP_SHA_256",
    )
    assert err.code == "ValidationException"
    err = kms.error("Encrypt", KeyId=md["KeyId"], Plaintext=b"x")  # SYMMETRIC_DEFAULT
    assert err.code == "InvalidKeyUsageException"


def test_hmac(kms: KmsEnv) -> None:
    md = kms.key(KeySpec="HMAC_384", KeyUsage="GENERATE_VERIFY_MAC")
    assert md["MacAlgorithms"] == ["HMAC_SHA_384"]
    mac = kms.call("GenerateMac", KeyId=md["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_384")
    assert len(mac["Mac"]) == 48
    ok = kms.call(
        "VerifyMac", KeyId=md["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_384", Mac=mac["Mac"]
    )
    assert ok["MacValid"] is True
    err = kms.error(
        "VerifyMac", KeyId=md["KeyId"], Message=b"n", MacAlgorithm="HMAC_SHA_384", Mac=mac["Mac"]
    )
    assert err.code == "KMSInvalidMacException"
    err = kms.error("GenerateMac", KeyId=md["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")
    assert err.code == "InvalidKeyUsageException"


def test_derive_shared_secret(kms: KmsEnv) -> None:
    md = kms.key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
    mine = ec.generate_private_key(ec.SECP256R1())
    peer_der = mine.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    out = kms.call(
        "DeriveSharedSecret", KeyId=md["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=peer_der
    )
    theirs = _public(kms, md["KeyId"])
    assert isinstance(theirs, ec.EllipticCurvePublicKey)
    assert out["SharedSecret"] == mine.exchange(ec.ECDH(), theirs)
    assert out["KeyOrigin"] == "AWS_KMS"


def test_generate_data_key_pair(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    out = kms.call(
        "GenerateDataKeyPair",
        KeyId=key_id,
        KeyPairSpec="ECC_NIST_P256",
        EncryptionContext={"a": "b"},
    )
    private = kms.call(
        "Decrypt", CiphertextBlob=out["PrivateKeyCiphertextBlob"], EncryptionContext={"a": "b"}
    )["Plaintext"]
    assert private == out["PrivateKeyPlaintext"]
    loaded = serialization.load_der_private_key(private, password=None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    assert (
        loaded.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == out["PublicKey"]
    )
    bare = kms.call("GenerateDataKeyPairWithoutPlaintext", KeyId=key_id, KeyPairSpec="RSA_2048")
    assert "PrivateKeyPlaintext" not in bare and bare["KeyPairSpec"] == "RSA_2048"
    signing = kms.key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyId"]
    err = kms.error("GenerateDataKeyPair", KeyId=signing, KeyPairSpec="RSA_2048")
    assert err.code == "InvalidKeyUsageException"


def _import(kms: KmsEnv, key_id: str, material: bytes, **extra: object) -> dict[str, object]:
    params = kms.call(
        "GetParametersForImport",
        KeyId=key_id,
        WrappingAlgorithm="RSAES_OAEP_SHA_256",
        WrappingKeySpec="RSA_2048",
    )
    wrapped = wrap_key_material(params["PublicKey"], "RSAES_OAEP_SHA_256", material)
    return kms.call(
        "ImportKeyMaterial",
        KeyId=key_id,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped,
        **extra,
    )


def test_import_key_material(kms: KmsEnv) -> None:
    md = kms.key(Origin="EXTERNAL")
    key_id = md["KeyId"]
    assert md["KeyState"] == "PendingImport" and md["Origin"] == "EXTERNAL"
    assert "CurrentKeyMaterialId" not in md
    assert kms.error("Encrypt", KeyId=key_id, Plaintext=b"x").code == "KMSInvalidStateException"
    material = bytes(range(32))
    out = _import(kms, key_id, material, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert out["KeyId"] == md["Arn"]
    assert kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"imported")["CiphertextBlob"]
    kms.call("DeleteImportedKeyMaterial", KeyId=key_id)
    assert kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingImport"
    assert kms.error("Decrypt", CiphertextBlob=blob).code == "KMSInvalidStateException"
    # Only the same material can come back, and then old ciphertexts decrypt again.
    with pytest.raises(ServiceError) as info:
        _import(kms, key_id, bytes(32), ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert info.value.code == "IncorrectKeyMaterialException"
    _import(kms, key_id, material, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert kms.call("Decrypt", CiphertextBlob=blob)["Plaintext"] == b"imported"


def test_imported_material_expires(kms: KmsEnv) -> None:
    key_id = kms.key(Origin="EXTERNAL")["KeyId"]
    valid_to = kms.clock.now + timedelta(days=1)
    _import(kms, key_id, bytes(range(32)), ValidTo=valid_to)
    md = kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]
    assert md["ExpirationModel"] == "KEY_MATERIAL_EXPIRES" and md["ValidTo"] == valid_to
    kms.clock.advance(86_401)
    kms.kms.jobs.run(kms.clock.now)
    assert kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingImport"


def test_import_errors(kms: KmsEnv) -> None:
    native = kms.key()["KeyId"]
    err = kms.error(
        "GetParametersForImport",
        KeyId=native,
        WrappingAlgorithm="RSAES_OAEP_SHA_256",
        WrappingKeySpec="RSA_2048",
    )
    assert err.code == "UnsupportedOperationException"
    key_id = kms.key(Origin="EXTERNAL")["KeyId"]
    other = kms.key(Origin="EXTERNAL")["KeyId"]
    params = kms.call(
        "GetParametersForImport",
        KeyId=other,
        WrappingAlgorithm="RSAES_OAEP_SHA_256",
        WrappingKeySpec="RSA_2048",
    )
    wrapped = wrap_key_material(params["PublicKey"], "RSAES_OAEP_SHA_256", bytes(32))
    err = kms.error(
        "ImportKeyMaterial",
        KeyId=key_id,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped,
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    assert err.code == "InvalidImportTokenException"
    err = kms.error(
        "ImportKeyMaterial",
        KeyId=other,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=b"\x00" * 256,
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    assert err.code == "InvalidCiphertextException"
    short = wrap_key_material(params["PublicKey"], "RSAES_OAEP_SHA_256", bytes(16))
    err = kms.error(
        "ImportKeyMaterial",
        KeyId=other,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=short,
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    assert err.code == "IncorrectKeyMaterialException"
    kms.clock.advance(86_401)
    err = kms.error(
        "ImportKeyMaterial",
        KeyId=other,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped,
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    assert err.code == "ExpiredImportTokenException"
