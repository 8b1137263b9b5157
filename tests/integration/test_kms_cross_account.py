"""The cross-account scenario of the KMS Developer Guide ("Allowing users in
other accounts to use a KMS key"), end to end with boto3.

Account A's key policy allows account B Decrypt, ReEncrypt and CreateGrant
when ``kms:CallerAccount`` is B; B's user, whose identity policy allows those
actions on A's key, decrypts A's data key and re-encrypts it under B's own key.
Each missing piece yields AccessDeniedException naming the permission.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support.live_server import STRONGROOM, LiveServer


def _create_account(server: LiveServer, name: str) -> dict[str, str]:
    out = subprocess.run(
        [STRONGROOM, "accounts", "create", name, "--data-dir", str(server.data_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    parsed = json.loads(out.stdout)
    return dict(parsed[0] if isinstance(parsed, list) else parsed)


def _user(
    server: LiveServer, admin: dict[str, str], name: str, policy: dict[str, Any] | None
) -> Any:
    iam = server.client("iam", (admin["AccessKeyId"], admin["SecretAccessKey"]))
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("kms", key)


def _denied(call: Any, permission: str, **params: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**params)
    error = info.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert permission in error["Message"]
    return str(error["Message"])


def test_cross_account_scenario(server: LiveServer) -> None:
    kms_a = server.client("kms")
    account_a = server.client("sts").get_caller_identity()["Account"]
    b = _create_account(server, "account-b")
    c = _create_account(server, "account-c")
    account_b = b["AccountId"]

    policy = {
        "Version": "2012-10-17",
        "Id": "cross-account",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_a}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "Allow use of the key by account B",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_b}:root"},
                "Action": ["kms:Decrypt", "kms:ReEncrypt*", "kms:CreateGrant", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": account_b}},
            },
            {
                "Sid": "Allow a service to use the key for account B",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_b}:root"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account_b,
                        "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com",
                    }
                },
            },
        ],
    }
    key_a = kms_a.create_key(Policy=json.dumps(policy))["KeyMetadata"]
    closed_a = kms_a.create_key()["KeyMetadata"]  # default policy: nothing for B
    data_key = kms_a.generate_data_key(KeyId=key_a["KeyId"], KeySpec="AES_256")
    closed_blob = kms_a.encrypt(KeyId=closed_a["KeyId"], Plaintext=b"closed")["CiphertextBlob"]

    # B's own key, created by B's admin (default policy: B's IAM policies decide).
    kms_b_admin = server.client("kms", (b["AccessKeyId"], b["SecretAccessKey"]))
    key_b = kms_b_admin.create_key()["KeyMetadata"]

    bob = _user(
        server,
        b,
        "bob",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:ReEncryptFrom", "kms:CreateGrant"],
                    "Resource": [key_a["Arn"], closed_a["Arn"]],
                },
                {
                    "Effect": "Allow",
                    "Action": ["kms:ReEncryptTo", "kms:Decrypt"],
                    "Resource": key_b["Arn"],
                },
            ],
        },
    )

    # B's user decrypts A's data key (no KeyId: the ciphertext names A's key) ...
    plain = bob.decrypt(CiphertextBlob=data_key["CiphertextBlob"])
    assert plain["Plaintext"] == data_key["Plaintext"] and plain["KeyId"] == key_a["Arn"]
    # ... re-encrypts it under B's own key ...
    moved = bob.re_encrypt(CiphertextBlob=data_key["CiphertextBlob"], DestinationKeyId=key_b["Arn"])
    assert moved["SourceKeyId"] == key_a["Arn"] and moved["KeyId"] == key_b["Arn"]
    assert bob.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]
    # ... and may create a grant on A's key.
    grant = bob.create_grant(
        KeyId=key_a["Arn"],
        GranteePrincipal=f"arn:aws:iam::{account_b}:user/bob",
        Operations=["Decrypt"],
    )
    assert grant["GrantId"]

    # Without the key-policy statement (A's other key): denied, naming kms:Decrypt.
    message = _denied(bob.decrypt, "kms:Decrypt", CiphertextBlob=closed_blob)
    assert closed_a["Arn"] in message and f"arn:aws:iam::{account_b}:user/bob" in message
    # Without B's identity policy: denied.
    carl = _user(server, b, "carl", None)
    _denied(carl.decrypt, "kms:Decrypt", CiphertextBlob=data_key["CiphertextBlob"])
    _denied(
        carl.create_grant,
        "kms:CreateGrant",
        KeyId=key_a["Arn"],
        GranteePrincipal=f"arn:aws:iam::{account_b}:user/carl",
        Operations=["Decrypt"],
    )
    # Bob may not encrypt with A's key (not in the key policy) ...
    _denied(bob.encrypt, "kms:Encrypt", KeyId=key_a["Arn"], Plaintext=b"x")
    # ... nor re-encrypt to a key his policy does not name.
    _denied(
        bob.re_encrypt,
        "kms:ReEncryptTo",
        CiphertextBlob=data_key["CiphertextBlob"],
        DestinationKeyId=closed_a["Arn"],
    )
    # From another account, even with an identity policy that allows everything: denied.
    dan = _user(
        server,
        c,
        "dan",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
        },
    )
    _denied(dan.decrypt, "kms:Decrypt", CiphertextBlob=data_key["CiphertextBlob"])
