"""PutRule, DescribeRule, DeleteRule, ListRules, EnableRule, DisableRule."""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.events.rules import (
    DISABLED,
    ENABLED,
    MAX_RULES_PER_BUS,
    Rule,
    bus_prefix,
    load_rule,
    rule_arn,
    rule_key,
    save_rule,
)
from strongroom.services.events import errors
from strongroom.services.events.common import (
    EventsBase,
    bus_name,
    decode_token,
    encode_token,
    pattern_of,
)

# The PutRule tag naming the Secrets Manager secret (name or ARN, in the
# rule's account and region) whose SecretString signs HTTP deliveries. A
# reference, not the key: tag values are not secret and appear in the audit.
SIGNING_SECRET_TAG = "strongroom:signing-secret-id"


def _signing_secret_id(tags: Any) -> str | None:
    for tag in tags or []:
        if tag.get("Key") == SIGNING_SECRET_TAG:
            value = str(tag.get("Value", "")).strip()
            if not value:
                raise errors.validation(
                    f"The {SIGNING_SECRET_TAG} tag must name a Secrets Manager secret."
                )
            return value
    return None


class RuleOperations(EventsBase):
    def put_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params["Name"])
        bus = bus_name(ctx, params.get("EventBusName"))
        account = ctx.principal.account_id
        arn = rule_arn(account, ctx.region, bus, name)
        ctx.authorize("events:PutRule", arn)
        if params.get("ScheduleExpression"):
            raise errors.validation(
                "ScheduleExpression is not supported by Strongroom; rules match events "
                "with an EventPattern only."
            )
        if params.get("EventPattern") is None:
            raise errors.validation(
                "Parameter(s) EventPattern or ScheduleExpression must be specified."
            )
        pattern_of(params["EventPattern"])
        state = str(params.get("State") or ENABLED)
        secret_id = _signing_secret_id(params.get("Tags"))
        with self.platform.store.transaction() as txn:
            old = load_rule(txn, account, ctx.region, bus, name)
            if old is None and len(txn.list(bus_prefix(account, ctx.region, bus))) >= (
                MAX_RULES_PER_BUS
            ):
                raise errors.limit_exceeded(
                    f"The requested resource exceeds the maximum number allowed "
                    f"({MAX_RULES_PER_BUS} rules per event bus)."
                )
            # PutRule replaces the rule's settings; its targets and secret stay.
            save_rule(
                txn,
                Rule(
                    name=name,
                    account=account,
                    region=ctx.region,
                    bus=bus,
                    state=state,
                    event_pattern=str(params["EventPattern"]),
                    description=params.get("Description"),
                    created_by=old.created_by if old else account,
                    signing_secret_id=secret_id or (old.signing_secret_id if old else None),
                    targets=old.targets if old else [],
                ),
            )
        return {"RuleArn": arn}

    def describe_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params["Name"])
        bus = bus_name(ctx, params.get("EventBusName"))
        ctx.authorize(
            "events:DescribeRule", rule_arn(ctx.principal.account_id, ctx.region, bus, name)
        )
        rule = self.existing_rule(ctx, name, bus)
        return {**self.describe(rule), "CreatedBy": rule.created_by}

    def delete_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params["Name"])
        bus = bus_name(ctx, params.get("EventBusName"))
        account = ctx.principal.account_id
        ctx.authorize("events:DeleteRule", rule_arn(account, ctx.region, bus, name))
        with self.platform.store.transaction() as txn:
            rule = load_rule(txn, account, ctx.region, bus, name)
            if rule is None:
                return {}  # deleting a missing rule succeeds, as in EventBridge
            if rule.targets:
                raise errors.validation("Rule can't be deleted since it has targets.")
            txn.delete(rule_key(account, ctx.region, bus, name))
        return {}

    def list_rules(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = bus_name(ctx, params.get("EventBusName"))
        ctx.authorize("events:ListRules", "*")
        limit = int(params.get("Limit") or 100)
        prefix = bus_prefix(ctx.principal.account_id, ctx.region, bus)
        after = decode_token(params.get("NextToken"))
        start = f"{prefix}{after}" if after else ""
        name_prefix = str(params.get("NamePrefix") or "")
        rows = self.platform.store.scan(prefix + name_prefix, start_after=start, limit=limit + 1)
        rules = [Rule.from_json(v) for _, v in rows]
        out: dict[str, Any] = {"Rules": [self.describe(r) for r in rules[:limit]]}
        if len(rules) > limit:
            out["NextToken"] = encode_token(rules[limit - 1].name)
        return out

    def enable_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._set_state(ctx, params, ENABLED, "events:EnableRule")
        return {}

    def disable_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._set_state(ctx, params, DISABLED, "events:DisableRule")
        return {}

    def _set_state(
        self, ctx: RequestContext, params: dict[str, Any], state: str, action: str
    ) -> None:
        name = str(params["Name"])
        bus = bus_name(ctx, params.get("EventBusName"))
        account = ctx.principal.account_id
        ctx.authorize(action, rule_arn(account, ctx.region, bus, name))
        with self.platform.store.transaction() as txn:
            rule = load_rule(txn, account, ctx.region, bus, name)
            if rule is None:
                raise errors.rule_not_found(name, bus)
            rule.state = state
            save_rule(txn, rule)
