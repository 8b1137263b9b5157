"""Long-term access keys of IAM users (and of the account root)."""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.iam.credentials import new_long_term_key
from strongroom.iam.errors import limit_exceeded, no_such_entity, validation
from strongroom.iam.records import KeyRecord
from strongroom.services.iam.common import IamBase, page, require, ts

KEYS_PER_USER = 2

Params = dict[str, Any]
Result = dict[str, Any]


def _key_out(key: KeyRecord, user_name: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AccessKeyId": key.access_key_id,
        "Status": key.status,
        "CreateDate": ts(key.created),
    }
    if user_name is not None:
        out["UserName"] = user_name
    return out


class AccessKeyOperations(IamBase):
    def _owner(self, ctx: RequestContext, params: Params, action: str) -> str | None:
        """Authorize ``action`` on the key owner; its display name (None: root)."""
        name = self.caller_user_name(ctx, params)
        if name is None:
            ctx.authorize(action, f"arn:aws:iam::{ctx.account_id}:root")
            return None
        return self.target(ctx, action, "user", name).name

    def create_access_key(self, ctx: RequestContext, params: Params) -> Result:
        owner = self._owner(ctx, params, "iam:CreateAccessKey")
        with self.write() as data:
            if owner is not None:
                data.require(ctx.account_id, "user", owner)
            if len(data.owned_keys(ctx.account_id, owner)) >= KEYS_PER_USER:
                raise limit_exceeded(f"Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}")
            key = new_long_term_key(ctx.account_id, owner, self.now(ctx))
            data.put_key(key)
        out = _key_out(key, owner)
        out["SecretAccessKey"] = key.secret
        return {"AccessKey": out}

    def list_access_keys(self, ctx: RequestContext, params: Params) -> Result:
        owner = self._owner(ctx, params, "iam:ListAccessKeys")
        keys = self.read().owned_keys(ctx.account_id, owner)
        chosen, extra = page(keys, params, lambda k: k.access_key_id)
        return {"AccessKeyMetadata": [_key_out(k, owner) for k in chosen], **extra}

    def update_access_key(self, ctx: RequestContext, params: Params) -> Result:
        akid = str(require(params, "AccessKeyId"))
        status = str(require(params, "Status"))
        if status not in ("Active", "Inactive"):
            raise validation(
                f"1 validation error detected: Value '{status}' at 'status' failed to satisfy "
                "constraint: Member must satisfy enum value set: [Active, Inactive]"
            )
        owner = self._owner(ctx, params, "iam:UpdateAccessKey")
        with self.write() as data:
            key = self._owned(data.key(akid), ctx.account_id, owner, akid)
            key.status = status
            data.put_key(key)
        return {}

    def delete_access_key(self, ctx: RequestContext, params: Params) -> Result:
        akid = str(require(params, "AccessKeyId"))
        owner = self._owner(ctx, params, "iam:DeleteAccessKey")
        with self.write() as data:
            key = self._owned(data.key(akid), ctx.account_id, owner, akid)
            data.delete_key(key)
        return {}

    def get_access_key_last_used(self, ctx: RequestContext, params: Params) -> Result:
        akid = str(require(params, "AccessKeyId"))
        data = self.read()
        key = data.key(akid)
        user = None
        if key is not None and key.kind == "user" and key.user is not None:
            user = data.get(key.account, "user", key.user)
        if key is None or key.kind == "session" or key.account != ctx.account_id:
            ctx.authorize("iam:GetAccessKeyLastUsed", f"arn:aws:iam::{ctx.account_id}:user/*")
            raise no_such_entity(f"The Access Key with id {akid} cannot be found.")
        resource = user.arn if user is not None else f"arn:aws:iam::{ctx.account_id}:root"
        ctx.authorize("iam:GetAccessKeyLastUsed", resource)
        used = data.key_last_used(akid)
        last: dict[str, Any] = {"ServiceName": "N/A", "Region": "N/A"}
        if used is not None:
            last = {
                "LastUsedDate": ts(used["date"]),
                "ServiceName": used["service"],
                "Region": used["region"],
            }
        out: Result = {"AccessKeyLastUsed": last}
        if user is not None:
            out["UserName"] = user.name
        return out

    @staticmethod
    def _owned(key: KeyRecord | None, account: str, owner: str | None, akid: str) -> KeyRecord:
        """The key if it belongs to ``owner`` (None: root) in ``account``."""
        expected_kind = "root" if owner is None else "user"
        if (
            key is None
            or key.account != account
            or key.kind != expected_kind
            or (owner is not None and key.user != owner.lower())
        ):
            raise no_such_entity(f"The Access Key with id {akid} cannot be found.")
        return key
