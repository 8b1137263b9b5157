"""PutResourcePolicy / GetResourcePolicies / DeleteResourcePolicy for parameters.

(User Guide, "Working with shared parameters".) Only advanced parameters can
be shared; a shared SecureString must use a customer managed key (the AWS
managed ``alias/aws/ssm`` key cannot be shared; the key's own policy must
let the other account decrypt). The policy names accounts as principals and
may grant only the read actions; the other account reads the parameter by
its full ARN, and its request is authorized against its own IAM policies
and this resource policy (cross-account: both must allow). Each policy has
an id and a hash; an update must present the current hash.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.iam.policy import MalformedPolicy, PolicyKind, parse_policy
from strongroom.services.ssm import errors, paging
from strongroom.services.ssm import records as rec
from strongroom.services.ssm.common import SsmBase
from strongroom.services.ssm.records import Parameter
from strongroom.services.ssm.repository import Entry, SsmTxn
from strongroom.services.ssm.secure import DEFAULT_KEY

MAX_POLICY_BYTES = 1024
SHAREABLE_ACTIONS = frozenset(
    {"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory", "ssm:DescribeParameters"}
)
_ACCOUNT = re.compile(r"^(?:arn:aws:iam::)?([0-9]{12})(?::root)?$")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_hash(policy: str) -> str:
    return hashlib.sha256(policy.encode()).hexdigest()


def shared_accounts(policy: str, owner: str, arn: str) -> list[str]:
    """Validate a parameter resource policy; the accounts its Allow statements name."""
    if len(policy.encode()) > MAX_POLICY_BYTES:
        raise errors.policy_limit(
            f"A resource policy can't be greater than {MAX_POLICY_BYTES} bytes in size."
        )
    try:
        body = json.loads(policy)
        parse_policy(policy, kind=PolicyKind.RESOURCE)
    except (ValueError, MalformedPolicy) as exc:
        raise errors.malformed_policy(f"The policy document is malformed: {exc}") from None
    accounts: list[str] = []
    for statement in _listed(body.get("Statement")):
        if not isinstance(statement, dict):
            raise errors.malformed_policy("Each statement must be an object.")
        principal = statement.get("Principal")
        if not isinstance(principal, dict) or set(principal) != {"AWS"}:
            raise errors.malformed_policy(
                'Principal must be {"AWS": ACCOUNT_ID or [ACCOUNT_IDs]}: parameters are shared '
                "with accounts."
            )
        for value in _listed(principal["AWS"]):
            match = _ACCOUNT.match(str(value))
            if match is None:
                raise errors.malformed_policy(
                    f"Principal {value} is not an account ID or account root ARN."
                )
            if statement.get("Effect") == "Allow" and match.group(1) != owner:
                accounts.append(match.group(1))
        for action in _listed(statement.get("Action")):
            if action not in SHAREABLE_ACTIONS:
                raise errors.malformed_policy(
                    f"Action {action} can't be shared: use {', '.join(sorted(SHAREABLE_ACTIONS))}."
                )
        for resource in _listed(statement.get("Resource")):
            if resource != arn:
                raise errors.malformed_policy(f"Resource must be the parameter ARN {arn}.")
    return sorted(set(accounts))


class SharingOperations(SsmBase):
    def _shared_entry(self, ctx: RequestContext, value: object, action: str) -> Entry:
        arn = str(value or "")
        try:
            ref = self.ref(ctx, arn, allow_selector=False)
        except ServiceError:
            raise errors.policy_invalid_parameter(f"{arn} is not a parameter ARN.") from None
        if not ref.by_arn or ref.account != ctx.account_id:
            raise errors.policy_invalid_parameter(
                f"{arn} is not the ARN of a parameter of account {ctx.account_id}."
            )
        entry = self.lookup(ref)
        self.authorize(ctx, action, ref, entry)
        if entry is None:
            raise errors.resource_not_found(arn)
        return entry

    def put_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._shared_entry(ctx, params.get("ResourceArn"), "PutResourcePolicy")
        current = entry.param.current
        if current.tier != rec.ADVANCED:
            raise errors.policy_invalid_parameter(
                "Only parameters in the advanced-parameter tier can be shared."
            )
        if current.type == rec.SECURE and current.key_id == DEFAULT_KEY:
            raise errors.policy_invalid_parameter(
                "A SecureString parameter encrypted with the AWS managed key alias/aws/ssm can't "
                "be shared: encrypt it with a customer managed key."
            )
        policy = str(params.get("Policy") or "")
        shared_accounts(policy, ctx.account_id, entry.arn)
        policy_id = params.get("PolicyId")
        with self.repo.write() as txn:
            param = self._fresh(txn, entry)
            if policy_id:
                item = self._find(param, str(policy_id), params.get("PolicyHash"))
                item.update(Policy=policy, PolicyHash=policy_hash(policy))
            else:
                item = {
                    "PolicyId": str(uuid.uuid4()),
                    "PolicyHash": policy_hash(policy),
                    "Policy": policy,
                }
                param.resource_policies.append(item)
            self._reindex(txn, param, entry.arn)
            txn.put_param(param)
        return {"PolicyId": item["PolicyId"], "PolicyHash": item["PolicyHash"]}

    def get_resource_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._shared_entry(ctx, params.get("ResourceArn"), "GetResourcePolicies")
        limit = paging.limit(params.get("MaxResults"), 50, 50)
        after = paging.decode("policies", params.get("NextToken"))
        items = entry.param.resource_policies
        start = next((i + 1 for i, p in enumerate(items) if p["PolicyId"] == after), 0)
        page = items[start : start + limit]
        result: dict[str, Any] = {"Policies": [dict(p) for p in page]}
        if start + limit < len(items):
            result["NextToken"] = paging.encode("policies", page[-1]["PolicyId"])
        return result

    def delete_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._shared_entry(ctx, params.get("ResourceArn"), "DeleteResourcePolicy")
        with self.repo.write() as txn:
            param = self._fresh(txn, entry)
            item = self._find(param, str(params.get("PolicyId") or ""), params.get("PolicyHash"))
            param.resource_policies.remove(item)
            self._reindex(txn, param, entry.arn)
            txn.put_param(param)
        return {}

    # -- helpers --------------------------------------------------------------------

    @staticmethod
    def _fresh(txn: SsmTxn, entry: Entry) -> Parameter:
        param = txn.param(entry.param.account, entry.param.region, entry.param.name)
        if param is None:
            raise errors.resource_not_found(entry.arn)
        return param

    @staticmethod
    def _find(param: Parameter, policy_id: str, given_hash: object) -> dict[str, str]:
        item = next((p for p in param.resource_policies if p["PolicyId"] == policy_id), None)
        if item is None:
            raise errors.policy_not_found()
        if given_hash != item["PolicyHash"]:
            raise errors.policy_conflict()
        return item

    @staticmethod
    def _reindex(txn: SsmTxn, param: Parameter, arn: str) -> None:
        """Keep ssm/shared/<consumer>/… in step with the policies' principals."""
        accounts: set[str] = set()
        for item in param.resource_policies:
            accounts.update(shared_accounts(item["Policy"], param.account, arn))
        for gone in set(param.shared_with) - accounts:
            txn.txn.delete(rec.shared_path(gone, param.region, param.account, param.name))
        for added in accounts - set(param.shared_with):
            txn.txn.put(rec.shared_path(added, param.region, param.account, param.name), b"{}")
        param.shared_with = sorted(accounts)
