"""Resource policies: Get/Put/Delete/Validate/ListResourcePolicies.

A secret has at most one policy, named ``default`` (AWS: "You can only
attach the default policy"). The policy joins the caller's IAM policies in
every authorization of the secret: same-account access needs either to
allow, cross-account access needs both (``ctx.authorize`` does the rest).
"""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.services.secretsmanager import errors, policy_checks
from strongroom.services.secretsmanager.common import SmBase
from strongroom.services.secretsmanager.records import SecretRecord
from strongroom.services.secretsmanager.repository import SecretsTxn

DEFAULT_POLICY = "default"


def _policy_name(params: dict[str, Any]) -> str:
    name = params.get("PolicyName")
    if name is None or name == DEFAULT_POLICY:
        return DEFAULT_POLICY
    raise errors.invalid_parameter(
        f"You can only attach the {DEFAULT_POLICY} resource policy to a secret; "
        f"{name} is not a valid PolicyName."
    )


class PolicyOperations(SmBase):
    def get_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _policy_name(params)
        entry = self.lookup(ctx, params.get("SecretId"), "GetResourcePolicy", allow_deleted=True)
        record = entry.record
        out: dict[str, Any] = {"ARN": record.arn, "Name": record.name}
        if record.policy is not None:
            out["ResourcePolicy"] = record.policy
            out["PolicyName"] = name
        return out

    def put_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _policy_name(params)
        document = params.get("ResourcePolicy")
        block = bool(params.get("BlockPublicPolicy"))
        entry = self.lookup(
            ctx,
            params.get("SecretId"),
            "PutResourcePolicy",
            {"secretsmanager:BlockPublicPolicy": block},
            allow_replica=False,
        )
        parsed = policy_checks.parse(document)
        if block and policy_checks.public_statements(parsed):
            raise errors.public_policy()

        def mutate(record: SecretRecord, txn: SecretsTxn) -> None:
            record.policy = str(document)

        record = self.change(entry, mutate)
        self.after_change(ctx, record)
        return {"ARN": record.arn, "Name": record.name, "PolicyName": name}

    def delete_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _policy_name(params)
        entry = self.lookup(
            ctx, params.get("SecretId"), "DeleteResourcePolicy", allow_replica=False
        )

        def mutate(record: SecretRecord, txn: SecretsTxn) -> None:
            record.policy = None

        record = self.change(entry, mutate)
        self.after_change(ctx, record)
        return {"ARN": record.arn, "Name": record.name, "PolicyName": name}

    def validate_resource_policy(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        secret_id = params.get("SecretId")
        if secret_id is not None:
            self.lookup(ctx, secret_id, "ValidateResourcePolicy", allow_deleted=True)
        else:
            ctx.authorize("secretsmanager:ValidateResourcePolicy", "*")
        parsed = policy_checks.parse(params.get("ResourcePolicy"))
        problems = policy_checks.validation_errors(parsed)
        return {"PolicyValidationPassed": not problems, "ValidationErrors": problems}

    def list_resource_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self.lookup(ctx, params.get("SecretId"), "ListResourcePolicies", allow_deleted=True)
        names = [{"PolicyName": DEFAULT_POLICY}] if entry.record.policy is not None else []
        return {"ResourcePolicies": names}
