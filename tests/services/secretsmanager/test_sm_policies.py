"""Resource policies, the public-access check, and authorization (IAM, resource
policy, KMS key policy) including cross-account access."""

from __future__ import annotations

import json
from typing import Any

from tests.services.secretsmanager.sm_support import ACCOUNT, OTHER_ACCOUNT, SmEnv, allow

from strongroom.iam.principal import Principal


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _grant(
    principal: str, actions: str | list[str] = "secretsmanager:GetSecretValue", **extra: Any
) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": actions,
        "Resource": "*",
        **extra,
    }


def test_put_get_delete_list_policy(sm: SmEnv) -> None:
    sm.secret("p", "v")
    doc = _policy(_grant(f"arn:aws:iam::{OTHER_ACCOUNT}:root"))
    out = sm.call("PutResourcePolicy", SecretId="p", ResourcePolicy=doc)
    assert out["PolicyName"] == "default"
    assert sm.call("GetResourcePolicy", SecretId="p")["ResourcePolicy"] == doc
    assert sm.call("ListResourcePolicies", SecretId="p")["ResourcePolicies"] == [
        {"PolicyName": "default"}
    ]
    sm.call("DeleteResourcePolicy", SecretId="p")
    assert "ResourcePolicy" not in sm.call("GetResourcePolicy", SecretId="p")
    assert sm.call("ListResourcePolicies", SecretId="p")["ResourcePolicies"] == []
    err = sm.error("PutResourcePolicy", SecretId="p", ResourcePolicy=doc, PolicyName="other")
    assert err.code == "InvalidParameterException"


def test_malformed_policies(sm: SmEnv) -> None:
    sm.secret("m", "v")
    for doc in ("not json", _policy({"Effect": "Allow", "Action": "*", "Resource": "*"}), "{}"):
        err = sm.error("PutResourcePolicy", SecretId="m", ResourcePolicy=doc)
        assert err.code == "MalformedPolicyDocumentException", doc
    err = sm.error("ValidateResourcePolicy", ResourcePolicy="[1,2")
    assert err.code == "MalformedPolicyDocumentException"


def test_block_public_policy(sm: SmEnv) -> None:
    sm.secret("pub", "v")
    public = _policy(_grant("*"))
    err = sm.error(
        "PutResourcePolicy", SecretId="pub", ResourcePolicy=public, BlockPublicPolicy=True
    )
    assert err.code == "PublicPolicyException"
    # Without the flag it is accepted (as in AWS).
    sm.call("PutResourcePolicy", SecretId="pub", ResourcePolicy=public)
    # A wildcard principal narrowed to one account is not public.
    narrowed = _policy(
        _grant("*", Condition={"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}})
    )
    sm.call("PutResourcePolicy", SecretId="pub", ResourcePolicy=narrowed, BlockPublicPolicy=True)
    # A condition on a wildcard value narrows nothing.
    loose = _policy(_grant("*", Condition={"StringLike": {"aws:PrincipalAccount": "*"}}))
    err = sm.error(
        "PutResourcePolicy", SecretId="pub", ResourcePolicy=loose, BlockPublicPolicy=True
    )
    assert err.code == "PublicPolicyException"
    # NotPrincipal with Allow is broad too.
    not_principal = _policy(
        {
            "Effect": "Allow",
            "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "*",
            "Resource": "*",
        }
    )
    assert (
        sm.error(
            "PutResourcePolicy",
            SecretId="pub",
            ResourcePolicy=not_principal,
            BlockPublicPolicy=True,
        ).code
        == "PublicPolicyException"
    )


def test_validate_resource_policy(sm: SmEnv) -> None:
    ok = sm.call(
        "ValidateResourcePolicy",
        ResourcePolicy=_policy(_grant(f"arn:aws:iam::{OTHER_ACCOUNT}:root")),
    )
    assert ok == {"PolicyValidationPassed": True, "ValidationErrors": []}
    bad = sm.call("ValidateResourcePolicy", ResourcePolicy=_policy(_grant({"AWS": "*"}["AWS"])))
    assert bad["PolicyValidationPassed"] is False
    assert bad["ValidationErrors"][0]["CheckName"] == "BLOCK_PUBLIC_POLICY"


def test_iam_policy_scopes_access(sm: SmEnv) -> None:
    sm.secret("team/a", "A")
    sm.secret("team/b", "B")
    user = sm.user(
        "u",
        allow(
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:team/a-*",
        ),
    )
    assert sm.call("GetSecretValue", principal=user, SecretId="team/a")["SecretString"] == "A"
    denied = _denied(sm, user, "GetSecretValue", SecretId="team/b")
    assert "secretsmanager:GetSecretValue" in denied
    # Missing secrets are denied, not reported as missing, to a caller who may not ask.
    assert "secretsmanager:GetSecretValue" in _denied(
        sm, user, "GetSecretValue", SecretId="team/zzz"
    )


def test_version_stage_condition_key(sm: SmEnv) -> None:
    sm.secret("c", "one")
    sm.call("PutSecretValue", SecretId="c", SecretString="two")
    user = sm.user(
        "staged",
        allow(
            "secretsmanager:GetSecretValue",
            Condition={"StringEquals": {"secretsmanager:VersionStage": "AWSPREVIOUS"}},
        ),
    )
    got = sm.call("GetSecretValue", principal=user, SecretId="c", VersionStage="AWSPREVIOUS")
    assert got["SecretString"] == "one"
    _denied(sm, user, "GetSecretValue", SecretId="c")


def test_resource_tag_condition(sm: SmEnv) -> None:
    sm.secret("tagged", "v", Tags=[{"Key": "team", "Value": "red"}])
    sm.secret("other", "v")
    user = sm.user(
        "tagger",
        allow(
            "secretsmanager:GetSecretValue",
            Condition={"StringEquals": {"secretsmanager:ResourceTag/team": "red"}},
        ),
    )
    assert sm.call("GetSecretValue", principal=user, SecretId="tagged")["SecretString"] == "v"
    _denied(sm, user, "GetSecretValue", SecretId="other")


def test_same_account_resource_policy_alone_grants(sm: SmEnv) -> None:
    sm.secret("rp", "v")
    user = sm.user("nobody")
    _denied(sm, user, "GetSecretValue", SecretId="rp")
    sm.call("PutResourcePolicy", SecretId="rp", ResourcePolicy=_policy(_grant(user.arn)))
    sm.sm.repo.invalidate()
    assert sm.call("GetSecretValue", principal=user, SecretId="rp")["SecretString"] == "v"


def _cross_account_setup(sm: SmEnv) -> tuple[str, Principal]:
    key = sm.kms_call(
        "CreateKey",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {
                                "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"
                            }
                        },
                    },
                ],
            }
        ),
    )["KeyMetadata"]
    arn = sm.secret("shared", "cross-value", KmsKeyId=key["Arn"])["ARN"]
    reader = sm.user(
        "reader",
        allow(["secretsmanager:GetSecretValue", "kms:Decrypt"]),
        admin=sm.other_admin,
    )
    return arn, reader


def test_cross_account_needs_resource_policy_and_key_policy(sm: SmEnv) -> None:
    arn, reader = _cross_account_setup(sm)
    # No resource policy: denied.
    assert "GetSecretValue" in _denied(sm, reader, "GetSecretValue", SecretId=arn)
    sm.call(
        "PutResourcePolicy",
        SecretId=arn,
        ResourcePolicy=_policy(_grant(f"arn:aws:iam::{OTHER_ACCOUNT}:root")),
        BlockPublicPolicy=True,
    )
    sm.sm.repo.invalidate()
    got = sm.call("GetSecretValue", principal=reader, SecretId=arn)
    assert got["SecretString"] == "cross-value"
    # By name, the caller's own account is searched: nothing there.
    assert sm.error("GetSecretValue", principal=reader, SecretId="shared").code == (
        "ResourceNotFoundException"
    )


def test_cross_account_fails_with_the_default_key(sm: SmEnv) -> None:
    arn = sm.secret("default-key", "v")["ARN"]
    sm.call(
        "PutResourcePolicy",
        SecretId=arn,
        ResourcePolicy=_policy(_grant(f"arn:aws:iam::{OTHER_ACCOUNT}:root")),
    )
    reader = sm.user(
        "r2", allow(["secretsmanager:GetSecretValue", "kms:Decrypt"]), admin=sm.other_admin
    )
    err = _denied(sm, reader, "GetSecretValue", SecretId=arn)
    assert err.startswith("Access to KMS is not allowed")


def _denied(sm: SmEnv, principal: Principal, operation: str, **params: Any) -> str:
    err = sm.error(operation, principal=principal, **params)
    assert err.code == "AccessDeniedException", err
    return err.message
