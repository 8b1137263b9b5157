"""The shared advanced parameter scenario (User Guide, "Working with shared
parameters"), end to end with boto3: account A shares an advanced SecureString
(encrypted with a customer managed key whose policy lets B decrypt) with
account B through a resource policy; B's user reads it by its full ARN.
Each missing piece yields AccessDeniedException."""

from __future__ import annotations

import json
import subprocess
import uuid
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


def _user(server: LiveServer, admin: dict[str, str], name: str, policy: dict[str, Any]) -> Any:
    iam = server.client("iam", (admin["AccessKeyId"], admin["SecretAccessKey"]))
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return server.client("ssm", iam.create_access_key(UserName=name)["AccessKey"])


def _denied(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**params)
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"
    return str(info.value.response["Error"]["Message"])


def test_shared_advanced_parameter(server: LiveServer) -> None:
    ssm_a, kms_a = server.client("ssm"), server.client("kms")
    account_a = server.client("sts").get_caller_identity()["Account"]
    b = _create_account(server, f"ssm-b-{uuid.uuid4().hex[:6]}")
    account_b = b["AccountId"]
    key = kms_a.create_key(
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account_a}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account_b}:root"},
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}
                        },
                    },
                ],
            }
        )
    )["KeyMetadata"]["Arn"]
    name = f"/shared-{uuid.uuid4().hex[:8]}/db-password"
    ssm_a.put_parameter(Name=name, Value="p@ss", Type="SecureString", KeyId=key, Tier="Advanced")
    arn = ssm_a.get_parameter(Name=name)["Parameter"]["ARN"]
    reader = _user(
        server,
        b,
        "reader",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["ssm:GetParameter", "ssm:DescribeParameters"],
                    "Resource": "*",
                },
                {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key},
            ],
        },
    )
    # Not shared yet.
    _denied(reader.get_parameter, Name=arn)

    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": account_b},
                    "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:DescribeParameters"],
                    "Resource": arn,
                }
            ],
        }
    )
    created = ssm_a.put_resource_policy(ResourceArn=arn, Policy=policy)
    listed = ssm_a.get_resource_policies(ResourceArn=arn)["Policies"]
    assert [p["PolicyId"] for p in listed] == [created["PolicyId"]]

    got = reader.get_parameter(Name=arn, WithDecryption=True)["Parameter"]
    assert got["Value"] == "p@ss" and got["ARN"] == arn
    shared = reader.describe_parameters(Shared=True)["Parameters"]
    assert [p["ARN"] for p in shared] == [arn]
    # The resource policy grants reads only: B cannot change A's parameter.
    with pytest.raises(ClientError):
        reader.delete_parameter(Name=arn)
    assert ssm_a.get_parameter(Name=name)["Parameter"]["Version"] == 1

    ssm_a.delete_resource_policy(
        ResourceArn=arn, PolicyId=created["PolicyId"], PolicyHash=created["PolicyHash"]
    )
    _denied(reader.get_parameter, Name=arn)
    assert reader.describe_parameters(Shared=True)["Parameters"] == []
