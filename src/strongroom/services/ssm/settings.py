"""GetServiceSetting / UpdateServiceSetting / ResetServiceSetting for the two
Parameter Store settings (per account and Region):

* ``/ssm/parameter-store/default-parameter-tier``: the tier PutParameter uses
  when the request names none (``Standard``, ``Advanced``, ``Intelligent-Tiering``);
* ``/ssm/parameter-store/high-throughput-enabled``: ``true``/``false``. Strongroom
  does not throttle either way; the setting is kept and reported.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from strongroom.context import RequestContext
from strongroom.services.ssm import errors
from strongroom.services.ssm import records as rec
from strongroom.services.ssm.common import SsmBase

DEFAULT_TIER = "/ssm/parameter-store/default-parameter-tier"
HIGH_THROUGHPUT = "/ssm/parameter-store/high-throughput-enabled"
_SETTINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    DEFAULT_TIER: (rec.STANDARD, (rec.STANDARD, rec.ADVANCED, rec.INTELLIGENT)),
    HIGH_THROUGHPUT: ("false", ("true", "false")),
}


def setting_arn(region: str, account: str, setting_id: str) -> str:
    return f"arn:aws:ssm:{region}:{account}:servicesetting{setting_id}"


class SettingOperations(SsmBase):
    def _setting_id(self, ctx: RequestContext, value: object) -> str:
        text = str(value or "")
        prefix = f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:servicesetting"
        if text.startswith(prefix):
            text = text[len(prefix) :]
        if text not in _SETTINGS:
            raise errors.setting_not_found(str(value))
        return text

    def setting_value(self, account: str, region: str, setting_id: str) -> str:
        raw = self.platform.store.get(rec.setting_path(account, region, setting_id))
        if raw is None:
            return _SETTINGS[setting_id][0]
        return str(json.loads(raw)["value"])

    def default_tier(self, account: str, region: str) -> str:
        return self.setting_value(account, region, DEFAULT_TIER)

    def _out(self, ctx: RequestContext, setting_id: str) -> dict[str, Any]:
        raw = self.platform.store.get(rec.setting_path(ctx.account_id, ctx.region, setting_id))
        out: dict[str, Any] = {
            "SettingId": setting_id,
            "ARN": setting_arn(ctx.region, ctx.account_id, setting_id),
        }
        if raw is None:
            out.update(SettingValue=_SETTINGS[setting_id][0], Status="Default")
            out["LastModifiedUser"] = "System"
        else:
            stored = json.loads(raw)
            out.update(
                SettingValue=stored["value"],
                Status="Customized",
                LastModifiedUser=stored["user"],
                LastModifiedDate=datetime.fromisoformat(stored["modified"]),
            )
        return out

    def _authorize_setting(self, ctx: RequestContext, action: str, setting_id: str) -> None:
        ctx.authorize(f"ssm:{action}", setting_arn(ctx.region, ctx.account_id, setting_id))

    def get_service_setting(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        setting_id = self._setting_id(ctx, params.get("SettingId"))
        self._authorize_setting(ctx, "GetServiceSetting", setting_id)
        return {"ServiceSetting": self._out(ctx, setting_id)}

    def update_service_setting(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        setting_id = self._setting_id(ctx, params.get("SettingId"))
        self._authorize_setting(ctx, "UpdateServiceSetting", setting_id)
        value = str(params.get("SettingValue", ""))
        allowed = _SETTINGS[setting_id][1]
        if value not in allowed:
            raise errors.validation(
                f"The value {value} isn't valid for {setting_id}: use one of {', '.join(allowed)}."
            )
        body = {"value": value, "user": ctx.principal.arn, "modified": rec.iso(ctx.now)}
        self.platform.store.put(
            rec.setting_path(ctx.account_id, ctx.region, setting_id), json.dumps(body).encode()
        )
        return {}

    def reset_service_setting(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        setting_id = self._setting_id(ctx, params.get("SettingId"))
        self._authorize_setting(ctx, "ResetServiceSetting", setting_id)
        self.platform.store.delete(rec.setting_path(ctx.account_id, ctx.region, setting_id))
        return {"ServiceSetting": self._out(ctx, setting_id)}
