"""What every SSM operation module shares: lookup, authorization, output shapes,
policy scheduling and events."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from strongroom.context import RequestContext
from strongroom.events.bus import event_bus
from strongroom.services.base import Service
from strongroom.services.ssm import errors
from strongroom.services.ssm import records as rec
from strongroom.services.ssm.names import ParamRef, parameter_arn, parse_ref
from strongroom.services.ssm.policies import due_time
from strongroom.services.ssm.records import SECURE, Parameter, Version
from strongroom.services.ssm.repository import Entry, SsmRepository, SsmTxn
from strongroom.services.ssm.secure import SecureValues

if TYPE_CHECKING:
    from strongroom.platform import Platform

log = logging.getLogger("strongroom.ssm")

SOURCE = "aws.ssm"
CHANGE = "Parameter Store Change"
POLICY_ACTION = "Parameter Store Policy Action"
_MAX_REFS = 10_000


class SsmBase(Service):
    repo: SsmRepository
    secure: SecureValues
    # Per account and Region (AWS quotas); instance attributes so tests can lower them.
    standard_limit: int = 10_000
    advanced_limit: int = 100_000

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        monotonic = getattr(platform.clock, "monotonic", time.monotonic)
        self.repo = SsmRepository(platform.store, monotonic=monotonic)
        self.secure = SecureValues(platform)
        self._refs: dict[tuple[str, str, str], ParamRef] = {}

    # -- names and lookup --------------------------------------------------------

    def ref(self, ctx: RequestContext, value: object, *, allow_selector: bool = True) -> ParamRef:
        if not isinstance(value, str) or not value:
            raise errors.validation("Parameter name is required.")
        cache_key = (value, ctx.account_id, ctx.region)
        found = self._refs.get(cache_key)
        if found is None:
            found = parse_ref(value, ctx.account_id, ctx.region)
            if len(self._refs) >= _MAX_REFS:
                self._refs.clear()
            self._refs[cache_key] = found
        if not allow_selector and found.selector is not None:
            raise errors.invalid_name()
        return found

    def lookup(self, ref: ParamRef) -> Entry | None:
        for name in ref.candidates():
            entry = self.repo.entry(ref.account, ref.region, name)
            if entry is not None:
                return entry
        return None

    def authorize(
        self,
        ctx: RequestContext,
        action: str,
        ref: ParamRef,
        entry: Entry | None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """IAM (and the parameter's resource policy, for shared parameters)."""
        arn = entry.arn if entry is not None else parameter_arn(ref.region, ref.account, ref.name)
        conditions: dict[str, Any] | None = None
        if entry is not None and entry.conditions:
            conditions = dict(entry.conditions)
        if extra:
            conditions = {**(conditions or {}), **extra}
        ctx.authorize(
            f"ssm:{action}",
            arn,
            resource_policy=entry.resource_policy if entry is not None else None,
            resource_account=ref.account if ref.account != ctx.account_id else None,
            conditions=conditions,
        )
        ctx.audit.setdefault("resources", []).append(arn)
        if ref.account != ctx.account_id:
            ctx.audit["resource_account"] = ref.account

    def existing(self, ctx: RequestContext, action: str, value: object) -> tuple[ParamRef, Entry]:
        """Resolve, authorize and require a parameter named without a selector."""
        ref = self.ref(ctx, value, allow_selector=False)
        entry = self.lookup(ref)
        self.authorize(ctx, action, ref, entry)
        if entry is None:
            raise errors.not_found(ref.requested)
        return ref, entry

    def version_for(self, ref: ParamRef, entry: Entry) -> Version:
        """The version a selector picks (the current one without a selector)."""
        param = entry.param
        number = ref.version
        if ref.label is not None:
            number = param.labels.get(ref.label)
            if number is None:
                raise errors.version_not_found(
                    f"Systems Manager could not find label {ref.label} for parameter "
                    f"{ref.requested}. Verify the label and try again."
                )
        if number is None or number == param.current.version:
            return param.current
        found = (
            self.repo.read().version(param.account, param.region, param.name, number)
            if number in param.versions
            else None
        )
        if found is None:
            raise errors.version_not_found(
                f"Systems Manager could not find version {number} of {ref.requested}. "
                "Verify the version and try again."
            )
        return found

    # -- output ------------------------------------------------------------------

    def value_of(self, ctx: RequestContext, entry: Entry, version: Version, decrypt: bool) -> str:
        if version.type != SECURE:
            return version.value or ""
        if not decrypt:
            return version.sealed or ""
        return self.secure.open(ctx, entry.arn, version)

    def parameter_out(
        self,
        ctx: RequestContext,
        entry: Entry,
        version: Version,
        decrypt: bool,
        *,
        name: str,
        selector: str | None = None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Name": name,
            "Type": version.type,
            "Value": self.value_of(ctx, entry, version, decrypt),
            "Version": version.version,
            "LastModifiedDate": version.modified_at,
            "ARN": entry.arn,
            "DataType": version.data_type,
        }
        if selector is not None:
            out["Selector"] = selector
        return out

    @staticmethod
    def metadata_out(entry: Entry, name: str | None = None) -> dict[str, Any]:
        v = entry.param.current
        out: dict[str, Any] = {
            "Name": name or entry.param.name,
            "ARN": entry.arn,
            "Type": v.type,
            "LastModifiedDate": v.modified_at,
            "LastModifiedUser": v.user,
            "Version": v.version,
            "Tier": v.tier,
            "Policies": [dict(p) for p in v.policies],
            "DataType": v.data_type,
        }
        for member, value in (
            ("KeyId", v.key_id),
            ("Description", v.description),
            ("AllowedPattern", v.allowed_pattern),
        ):
            if value is not None:
                out[member] = value
        return out

    # -- policies and events ---------------------------------------------------------

    @staticmethod
    def reschedule(txn: SsmTxn, param: Parameter) -> None:
        """Replace the parameter's ssm/due/ entries by those its current policies need."""
        for key in param.due:
            txn.txn.delete(key)
        param.due = []
        current = param.current
        for index, policy in enumerate(current.policies):
            when = due_time(current.policies, index, current.modified_at)
            if when is None:
                continue
            key = f"{rec.DUE}{rec.iso(when)}/{uuid.uuid4()}"
            body = {
                "account": param.account,
                "region": param.region,
                "name": param.name,
                "type": policy["PolicyType"],
                "index": index,
            }
            txn.txn.put(key, json.dumps(body).encode())
            param.due.append(key)

    def change_event(self, param: Parameter, operation: str) -> None:
        """EventBridge "Parameter Store Change" (Systems Manager User Guide,
        "Monitoring Systems Manager events with Amazon EventBridge")."""
        detail: dict[str, Any] = {
            "operation": operation,
            "name": param.name,
            "type": param.current.type,
        }
        if param.current.description:
            detail["description"] = param.current.description
        self._publish(param, CHANGE, detail)

    def policy_event(self, param: Parameter, policy: Mapping[str, str], reason: str) -> None:
        detail = {
            "parameter-name": param.name,
            "parameter-type": param.current.type,
            "policy-type": policy["PolicyType"],
            "policy-content": policy["PolicyText"],
            "action-status": "Finished",
            "action-reason": reason,
        }
        self._publish(param, POLICY_ACTION, detail)

    def _publish(self, param: Parameter, detail_type: str, detail: dict[str, Any]) -> None:
        try:
            event_bus(self.platform).publish(
                param.account, param.region, SOURCE, detail_type, detail, [arn_of(param)]
            )
        except Exception:  # the change it reports has committed: answer it anyway
            log.exception("could not publish %s for %s", detail_type, arn_of(param))


def arn_of(param: Parameter) -> str:
    return parameter_arn(param.region, param.account, param.name)
