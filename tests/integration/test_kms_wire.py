"""KMS over the wire: boto3 and the AWS CLI against a live server."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.support.live_server import LiveServer


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


@pytest.fixture(scope="module")
def kms(server: LiveServer) -> Any:
    return server.client("kms")


def test_symmetric_round_trip_and_errors(kms: Any) -> None:
    key = kms.create_key(Description="wire", Tags=[{"TagKey": "t", "TagValue": "v"}])
    key_id = key["KeyMetadata"]["KeyId"]
    assert key["KeyMetadata"]["KeyState"] == "Enabled"
    kms.create_alias(AliasName="alias/wire-test", TargetKeyId=key_id)
    enc = kms.encrypt(
        KeyId="alias/wire-test", Plaintext=b"over the wire", EncryptionContext={"a": "b"}
    )
    dec = kms.decrypt(CiphertextBlob=enc["CiphertextBlob"], EncryptionContext={"a": "b"})
    assert dec["Plaintext"] == b"over the wire" and dec["KeyId"] == enc["KeyId"]
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert (
        kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]
    )
    with pytest.raises(ClientError) as info:
        kms.decrypt(CiphertextBlob=enc["CiphertextBlob"])
    assert _code(info) == "InvalidCiphertextException"
    with pytest.raises(ClientError) as info:
        kms.describe_key(KeyId="00000000-0000-0000-0000-000000000000")
    assert _code(info) == "NotFoundException"
    with pytest.raises(ClientError) as info:
        kms.encrypt(KeyId=key_id, Plaintext=b"x" * 4097)
    assert _code(info) == "ValidationException"
    kms.disable_key(KeyId=key_id)
    with pytest.raises(ClientError) as info:
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    assert _code(info) == "DisabledException"
    kms.enable_key(KeyId=key_id)
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "t", "TagValue": "v"}]
    assert len(kms.generate_random(NumberOfBytes=32)["Plaintext"]) == 32
    listed = [
        k["KeyId"]
        for page in kms.get_paginator("list_keys").paginate(Limit=1)
        for k in page["Keys"]
    ]
    assert key_id in listed


def test_sign_verify_over_the_wire(kms: Any) -> None:
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    sig = kms.sign(KeyId=key_id, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(sig, b"m", ec.ECDSA(hashes.SHA256()))
    assert kms.verify(KeyId=key_id, Message=b"m", Signature=sig, SigningAlgorithm="ECDSA_SHA_256")[
        "SignatureValid"
    ]
    with pytest.raises(ClientError) as info:
        kms.verify(KeyId=key_id, Message=b"n", Signature=sig, SigningAlgorithm="ECDSA_SHA_256")
    assert _code(info) == "KMSInvalidSignatureException"


def test_aws_cli_encrypt_decrypt(server: LiveServer, kms: Any, tmp_path: Path) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_SHARED_CREDENTIALS_FILE": str(server.data_dir / "admin-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    aws = [str(Path(sys.executable).with_name("aws")), "--profile", "strongroom"]
    aws += ["--endpoint-url", server.endpoint, "--output", "text"]
    plaintext = tmp_path / "plain.bin"
    plaintext.write_bytes(b"\x00\x01binary secret\xff")

    def run(*args: str) -> str:
        done = subprocess.run(
            [*aws, *args], capture_output=True, text=True, env=env, timeout=60, check=True
        )
        return done.stdout.strip()

    blob_b64 = run(
        "kms",
        "encrypt",
        "--key-id",
        key_id,
        "--plaintext",
        f"fileb://{plaintext}",
        "--query",
        "CiphertextBlob",
    )
    blob = tmp_path / "blob.bin"
    blob.write_bytes(base64.b64decode(blob_b64))
    plain_b64 = run(
        "kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--query", "Plaintext"
    )
    assert base64.b64decode(plain_b64) == plaintext.read_bytes()
