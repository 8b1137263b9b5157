"""The cross-account secret scenario of the Secrets Manager User Guide ("Access
AWS Secrets Manager secrets from a different account"), end to end with boto3.

Account A keeps a secret encrypted with a customer managed key. B's user can
read it only when all three agree: A's secret resource policy allows B, A's
key policy allows B kms:Decrypt (through Secrets Manager), and B's own IAM
policy allows both actions. Each missing piece is an AccessDeniedException.
A secret under A's AWS managed key (aws/secretsmanager) can never be shared.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support.live_server import STRONGROOM, LiveServer


def _account(server: LiveServer, name: str) -> dict[str, str]:
    out = subprocess.run(
        [STRONGROOM, "accounts", "create", name, "--data-dir", str(server.data_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    parsed = json.loads(out.stdout)
    return dict(parsed[0] if isinstance(parsed, list) else parsed)


def _user(server: LiveServer, admin: dict[str, str], name: str, policy: dict[str, Any]) -> Any:
    iam = server.client("iam", (admin["AccessKeyId"], admin["SecretAccessKey"]))
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return server.client("secretsmanager", iam.create_access_key(UserName=name)["AccessKey"])


def _denied(client: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as info:
        client.get_secret_value(**params)
    error = info.value.response["Error"]
    assert error["Code"] == "AccessDeniedException", error
    return str(error["Message"])


def test_cross_account_secret(server: LiveServer) -> None:
    sm_a = server.client("secretsmanager")
    kms_a = server.client("kms")
    account_a = server.client("sts").get_caller_identity()["Account"]
    b = _account(server, f"sm-b-{uuid.uuid4().hex[:6]}")
    account_b = b["AccountId"]
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_a}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    key = kms_a.create_key(Policy=json.dumps(key_policy))["KeyMetadata"]
    name = f"shared/{uuid.uuid4().hex[:8]}"
    arn = sm_a.create_secret(Name=name, SecretString="for-account-b", KmsKeyId=key["Arn"])["ARN"]

    reader = _user(
        server,
        b,
        "reader",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn},
                {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["Arn"]},
            ],
        },
    )
    # 1. Nothing granted by A yet.
    assert "secretsmanager:GetSecretValue" in _denied(reader, SecretId=arn)
    # 2. The secret's resource policy allows B, the key policy does not yet.
    sm_a.put_resource_policy(
        SecretId=arn,
        BlockPublicPolicy=True,
        ResourcePolicy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account_b}:root"},
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    message = _denied(reader, SecretId=arn)
    assert message.startswith("Access to KMS is not allowed")
    assert "kms:Decrypt" in message
    # 3. The key policy allows B to decrypt through Secrets Manager: access works.
    key_policy["Statement"].append(
        {
            "Sid": "Allow account B through Secrets Manager",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_b}:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
            },
        }
    )
    kms_a.put_key_policy(KeyId=key["KeyId"], Policy=json.dumps(key_policy))
    value = _eventually(lambda: reader.get_secret_value(SecretId=arn))
    assert value["SecretString"] == "for-account-b"
    # The same key cannot be used directly by B (the ViaService condition).
    kms_b = server.client("kms", (b["AccessKeyId"], b["SecretAccessKey"]))
    with pytest.raises(ClientError) as info:
        kms_b.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"
    # 4. Without B's own IAM permission, B's other users are denied.
    other = _user(
        server,
        b,
        "other",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
        },
    )
    assert "secretsmanager:GetSecretValue" in _denied(other, SecretId=arn)
    # 5. A secret under A's AWS managed key cannot be shared.
    default_arn = sm_a.create_secret(Name=f"{name}-default", SecretString="no")["ARN"]
    sm_a.put_resource_policy(
        SecretId=default_arn,
        ResourcePolicy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account_b}:root"},
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    admin_b = server.client("secretsmanager", (b["AccessKeyId"], b["SecretAccessKey"]))
    assert _denied(admin_b, SecretId=default_arn).startswith("Access to KMS is not allowed")


def _eventually(call: Any, seconds: float = 10.0) -> Any:
    """Key policy changes reach the request path within the KMS cache TTL."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)
