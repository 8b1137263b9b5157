"""Key policies: the default policy, AWS managed key policies, validation and
the policy lockout safety check (KMS Developer Guide, "Default key policy",
"AWS managed keys", "Key policies").
"""

from __future__ import annotations

import json
from typing import Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.iam.policy import MalformedPolicy, PolicyKind, parse_policy_cached
from strongroom.services.kms import errors
from strongroom.services.kms.conditions import caller_keys

DEFAULT_POLICY_NAME = "default"
# AWS: "The maximum length of a key policy document is 32 kilobytes (32768 bytes)."
MAX_POLICY_BYTES = 32_768

_LOCKOUT_MESSAGE = "The new key policy will not allow you to update the key policy in the future."


def _pretty(document: dict[str, Any]) -> str:
    # AWS returns key policies pretty-printed with " : " separators.
    return json.dumps(document, indent=2, separators=(",", " : "))


def default_key_policy(account: str) -> str:
    """The policy of a key created without one: delegate everything to the account's IAM."""
    return _pretty(
        {
            "Version": "2012-10-17",
            "Id": "key-default-1",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )


# Service names as AWS managed key aliases use them -> the name the policy's Sid uses.
SERVICE_TITLES = {
    "ssm": "AWS Systems Manager",
    "secretsmanager": "AWS Secrets Manager",
    "s3": "Amazon S3",
    "ebs": "Amazon EBS",
    "lambda": "AWS Lambda",
    "rds": "Amazon RDS",
    "dynamodb": "Amazon DynamoDB",
    "sns": "Amazon SNS",
    "sqs": "Amazon SQS",
}


def aws_managed_key_policy(account: str, region: str, service: str) -> str:
    """The fixed policy of ``alias/aws/<service>``: usable through that service by
    every principal of the account the service authorizes, metadata readable by
    the account."""
    title = SERVICE_TITLES.get(service, service)
    via = f"{'ec2' if service == 'ebs' else service}.{region}.amazonaws.com"
    return _pretty(
        {
            "Version": "2012-10-17",
            "Id": f"auto-{service}-1",
            "Statement": [
                {
                    "Sid": (
                        f"Allow access through {title} for all principals in the account "
                        f"that are authorized to use {title}"
                    ),
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:CreateGrant",
                        "kms:DescribeKey",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"kms:ViaService": via, "kms:CallerAccount": account}
                    },
                },
                {
                    "Sid": "Allow direct access to key metadata to the account",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                    "Resource": "*",
                },
            ],
        }
    )


def validate_policy(document: str) -> None:
    """MalformedPolicyDocumentException unless ``document`` is a valid key policy."""
    if len(document.encode()) > MAX_POLICY_BYTES:
        raise errors.limit_exceeded(
            f"The key policy exceeds the maximum size of {MAX_POLICY_BYTES} bytes."
        )
    try:
        parse_policy_cached(document, PolicyKind.RESOURCE, "key policy")
    except MalformedPolicy as exc:
        raise errors.malformed_policy(str(exc)) from None


def check_lockout(ctx: RequestContext, key_arn: str, account: str, document: str) -> None:
    """AWS's policy lockout safety check: the new policy must let the caller
    call PutKeyPolicy afterwards, unless BypassPolicyLockoutSafetyCheck."""
    try:
        ctx.authorize(
            "kms:PutKeyPolicy",
            key_arn,
            resource_policy=document,
            resource_account=account,
            conditions=caller_keys(ctx),
            require_resource_policy=True,
        )
    except ServiceError as denied:
        if denied.code in ("AccessDeniedException", "AccessDenied"):
            raise errors.malformed_policy(_LOCKOUT_MESSAGE) from None
        raise


def check_policy_name(name: object) -> None:
    if name is not None and name != DEFAULT_POLICY_NAME:
        raise errors.not_found(f"Policy {name} does not exist.")
