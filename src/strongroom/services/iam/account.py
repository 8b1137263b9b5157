"""Account-wide views: GetAccountSummary and GetAccountAuthorizationDetails."""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.iam.errors import validation
from strongroom.iam.records import Entity
from strongroom.iam.repository import IamData, parse_policy_arn
from strongroom.services.iam.common import (
    ATTACHED_LIMIT,
    INLINE_LIMITS,
    MANAGED_POLICY_LIMIT,
    TRUST_POLICY_LIMIT,
    IamBase,
    boundary_out,
    encode_document,
    policy_out,
    ts,
    version_out,
)
from strongroom.services.iam.groups import GROUPS_PER_USER
from strongroom.services.iam.keys import KEYS_PER_USER
from strongroom.services.iam.managed import MAX_VERSIONS, version_order

Params = dict[str, Any]
Result = dict[str, Any]

_FILTERS = ("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")


def _inline_list(entity: Entity) -> list[dict[str, str]]:
    return [
        {"PolicyName": p["name"], "PolicyDocument": encode_document(p["document"])}
        for _, p in sorted(entity.inline.items())
    ]


def _attached_list(entity: Entity) -> list[dict[str, str]]:
    return [{"PolicyName": parse_policy_arn(a)[2], "PolicyArn": a} for a in entity.attached]


def _common(entity: Entity) -> dict[str, Any]:
    cap = entity.kind.capitalize()
    out: dict[str, Any] = {
        "Path": entity.path,
        f"{cap}Name": entity.name,
        f"{cap}Id": entity.id,
        "Arn": entity.arn,
        "CreateDate": ts(entity.created),
        f"{cap}PolicyList": _inline_list(entity),
        "AttachedManagedPolicies": _attached_list(entity),
    }
    if entity.boundary:
        out["PermissionsBoundary"] = boundary_out(entity.boundary)
    if entity.tags and entity.kind != "group":
        out["Tags"] = list(entity.tags)
    return out


class AccountOperations(IamBase):
    def get_account_summary(self, ctx: RequestContext, params: Params) -> Result:
        ctx.authorize("iam:GetAccountSummary", "*")
        data = self.read()
        acct = ctx.account_id
        local = data.local_policies(acct)
        versions_in_use = sum(
            len(p.versions) for p in local if data.usage_counts(acct, p) != (0, 0)
        )
        summary = {
            "Users": data.count(acct, "user"),
            "UsersQuota": 5000,
            "Groups": data.count(acct, "group"),
            "GroupsQuota": 300,
            "Roles": data.count(acct, "role"),
            "RolesQuota": 1000,
            "Policies": len(local),
            "PoliciesQuota": 1500,
            "PolicyVersionsInUse": versions_in_use,
            "PolicyVersionsInUseQuota": 10000,
            "VersionsPerPolicyQuota": MAX_VERSIONS,
            "PolicySizeQuota": MANAGED_POLICY_LIMIT,
            "UserPolicySizeQuota": INLINE_LIMITS["user"],
            "GroupPolicySizeQuota": INLINE_LIMITS["group"],
            "RolePolicySizeQuota": INLINE_LIMITS["role"],
            "AssumeRolePolicySizeQuota": TRUST_POLICY_LIMIT,
            "GroupsPerUserQuota": GROUPS_PER_USER,
            "AttachedPoliciesPerUserQuota": ATTACHED_LIMIT,
            "AttachedPoliciesPerGroupQuota": ATTACHED_LIMIT,
            "AttachedPoliciesPerRoleQuota": ATTACHED_LIMIT,
            "AccessKeysPerUserQuota": KEYS_PER_USER,
            "AccountAccessKeysPresent": 1 if data.owned_keys(acct, None) else 0,
            "AccountMFAEnabled": 0,
            "MFADevices": 0,
            "MFADevicesInUse": 0,
            "ServerCertificates": 0,
            "ServerCertificatesQuota": 20,
            "SigningCertificatesPerUserQuota": 2,
            "InstanceProfiles": 0,
            "InstanceProfilesQuota": 1000,
            "Providers": 0,
            "GlobalEndpointTokenVersion": 1,
        }
        return {"SummaryMap": summary}

    def get_account_authorization_details(self, ctx: RequestContext, params: Params) -> Result:
        """Everything at once (no pagination: IsTruncated is always false)."""
        ctx.authorize("iam:GetAccountAuthorizationDetails", "*")
        wanted = set(params.get("Filter") or _FILTERS)
        unknown = wanted - set(_FILTERS)
        if unknown:
            raise validation(f"Value {sorted(unknown)} at 'filter' is not valid")
        data = self.read()
        acct = ctx.account_id
        out: Result = {"IsTruncated": False}
        if "User" in wanted:
            out["UserDetailList"] = [self._user(data, u) for u in self._all(data, acct, "user")]
        if "Group" in wanted:
            out["GroupDetailList"] = [_common(g) for g in self._all(data, acct, "group")]
        if "Role" in wanted:
            out["RoleDetailList"] = [self._role(data, r) for r in self._all(data, acct, "role")]
        policies = []
        for policy in data.all_policies(acct):
            kind = "AWSManagedPolicy" if policy.is_aws_managed else "LocalManagedPolicy"
            if kind not in wanted:
                continue
            counts = data.usage_counts(acct, policy)
            if policy.is_aws_managed and counts == (0, 0):
                continue  # AWS managed policies appear only where the account uses them
            detail = policy_out(policy, counts)
            if policy.description:
                detail["Description"] = policy.description
            detail["PolicyVersionList"] = [
                version_out(policy, v) for v in sorted(policy.versions, key=version_order)
            ]
            policies.append(detail)
        if wanted & {"AWSManagedPolicy", "LocalManagedPolicy"}:
            out["Policies"] = policies
        return out

    @staticmethod
    def _all(data: IamData, account: str, kind: str) -> list[Entity]:
        return data.entities(account, kind)[0]

    @staticmethod
    def _user(data: IamData, user: Entity) -> dict[str, Any]:
        out = _common(user)
        names = [data.get(user.account, "group", g) for g in user.groups]
        out["GroupList"] = [g.name for g in names if g is not None]
        return out

    @staticmethod
    def _role(data: IamData, role: Entity) -> dict[str, Any]:
        out = _common(role)
        out["AssumeRolePolicyDocument"] = encode_document(role.trust or "")
        out["InstanceProfileList"] = []
        used = data.role_last_used(role.account, role.name)
        out["RoleLastUsed"] = (
            {"LastUsedDate": ts(used["date"]), "Region": used["region"]} if used else {}
        )
        return out
