"""A small built-in set of AWS managed policies (``arn:aws:iam::aws:policy/…``).

AdministratorAccess is AWS's document verbatim (Allow ``*`` on ``*``). The
others keep AWS's intent and the statements that matter for the services
Strongroom implements (IAM, STS, KMS, Secrets Manager, SSM, CloudTrail),
leaving out the hundreds of actions of services that do not exist here.
They are code, not data: the same in every account, never deletable.
"""

from __future__ import annotations

import json
from typing import Any

from strongroom.iam.records import AWS_ACCOUNT, ManagedPolicy

# AWS managed policies all report these dates' shape; the exact dates are ours.
_CREATED = "2015-02-06T18:39:46+00:00"
_UPDATED = "2024-01-01T00:00:00+00:00"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=4)


_DOCUMENTS: dict[str, tuple[str, str, str]] = {
    # name -> (policy id, description, document)
    "AdministratorAccess": (
        "ANPAIWMBCKSKIEE64ZLYK",
        "Provides full access to AWS services and resources.",
        _doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    ),
    "PowerUserAccess": (
        "ANPAJYRXTHIB4FOVS3ZXS",
        "Provides full access to AWS services and resources, "
        "but does not allow management of Users and groups.",
        _doc(
            {
                "Effect": "Allow",
                "NotAction": ["iam:*", "organizations:*", "account:*"],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": [
                    "iam:CreateServiceLinkedRole",
                    "iam:DeleteServiceLinkedRole",
                    "iam:ListRoles",
                    "organizations:DescribeOrganization",
                    "account:GetAccountInformation",
                    "account:ListRegions",
                ],
                "Resource": "*",
            },
        ),
    ),
    "ReadOnlyAccess": (
        "ANPAILL3HVNFSB6DCOWYQ",
        "Provides read-only access to AWS services and resources.",
        _doc(
            {
                "Effect": "Allow",
                "Action": [
                    "cloudtrail:Describe*",
                    "cloudtrail:Get*",
                    "cloudtrail:List*",
                    "cloudtrail:LookupEvents",
                    "iam:Generate*",
                    "iam:Get*",
                    "iam:List*",
                    "iam:Simulate*",
                    "kms:Describe*",
                    "kms:Get*",
                    "kms:List*",
                    "secretsmanager:Describe*",
                    "secretsmanager:GetResourcePolicy",
                    "secretsmanager:List*",
                    "ssm:Describe*",
                    "ssm:Get*",
                    "ssm:List*",
                    "sts:GetCallerIdentity",
                ],
                "Resource": "*",
            }
        ),
    ),
    "IAMFullAccess": (
        "ANPAI7XKCFMBPM3QQRRVQ",
        "Provides full access to IAM via the AWS Management Console.",
        _doc(
            {
                "Effect": "Allow",
                "Action": [
                    "iam:*",
                    "organizations:DescribeAccount",
                    "organizations:DescribeOrganization",
                    "organizations:DescribeOrganizationalUnit",
                    "organizations:DescribePolicy",
                    "organizations:ListChildren",
                    "organizations:ListParents",
                    "organizations:ListPoliciesForTarget",
                    "organizations:ListRoots",
                    "organizations:ListPolicies",
                    "organizations:ListTargetsForPolicy",
                ],
                "Resource": "*",
            }
        ),
    ),
    "IAMReadOnlyAccess": (
        "ANPAJKSO7NDY4T57MWDSQ",
        "Provides read only access to IAM via the AWS Management Console.",
        _doc(
            {
                "Effect": "Allow",
                "Action": [
                    "iam:GenerateCredentialReport",
                    "iam:GenerateServiceLastAccessedDetails",
                    "iam:Get*",
                    "iam:List*",
                    "iam:SimulateCustomPolicy",
                    "iam:SimulatePrincipalPolicy",
                ],
                "Resource": "*",
            }
        ),
    ),
    "AWSKeyManagementServicePowerUser": (
        "ANPAJNPP7PPPPMJRV2SA4",
        "Provides access to AWS Key Management Service (KMS).",
        _doc(
            {
                "Effect": "Allow",
                "Action": [
                    "kms:CreateAlias",
                    "kms:CreateKey",
                    "kms:DeleteAlias",
                    "kms:Describe*",
                    "kms:GenerateRandom",
                    "kms:Get*",
                    "kms:List*",
                    "kms:TagResource",
                    "kms:UntagResource",
                    "iam:ListGroups",
                    "iam:ListRoles",
                    "iam:ListUsers",
                ],
                "Resource": "*",
            }
        ),
    ),
    "SecretsManagerReadWrite": (
        "ANPAJTENZ5LXTXPQXCD5K",
        "Provides read/write access to AWS Secrets Manager via the AWS Management Console.",
        _doc(
            {
                "Sid": "BasePermissions",
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:*",
                    "kms:DescribeKey",
                    "kms:ListAliases",
                    "kms:ListKeys",
                    "tag:GetResources",
                ],
                "Resource": "*",
            }
        ),
    ),
}


def _build() -> dict[str, ManagedPolicy]:
    out: dict[str, ManagedPolicy] = {}
    for name, (policy_id, description, document) in _DOCUMENTS.items():
        out[name.lower()] = ManagedPolicy(
            account=AWS_ACCOUNT,
            name=name,
            path="/",
            id=policy_id,
            created=_CREATED,
            updated=_UPDATED,
            description=description,
            default_version="v1",
            versions={"v1": {"document": document, "created": _CREATED}},
            next_version=2,
        )
    return out


_POLICIES = _build()


def aws_managed_policy(name: str) -> ManagedPolicy | None:
    """The built-in policy called ``name`` (case-insensitive), or None."""
    return _POLICIES.get(name.lower())


def aws_managed_policies() -> list[ManagedPolicy]:
    return sorted(_POLICIES.values(), key=lambda p: p.name.lower())


def aws_managed_arn(name: str) -> str:
    return f"arn:aws:iam::{AWS_ACCOUNT}:policy/{name}"
