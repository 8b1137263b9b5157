"""Helpers shared by the EventBridge operations: bus names, rule lookup, paging."""

from __future__ import annotations

import base64
from typing import Any

from strongroom.context import RequestContext
from strongroom.events.pattern import InvalidPattern, Pattern, parse_pattern
from strongroom.events.rules import DEFAULT_BUS, Rule, load_rule
from strongroom.services.base import Service
from strongroom.services.events import errors


def bus_name(ctx: RequestContext, value: Any) -> str:
    """Only the default bus exists; its name or ARN (of the caller's account
    and region) are accepted, as EventBridge does."""
    if value is None or value == DEFAULT_BUS:
        return DEFAULT_BUS
    account = ctx.principal.account_id
    if value == f"arn:aws:events:{ctx.region}:{account}:event-bus/{DEFAULT_BUS}":
        return DEFAULT_BUS
    raise errors.bus_not_found(str(value))


def bus_arn(ctx: RequestContext, bus: str) -> str:
    return f"arn:aws:events:{ctx.region}:{ctx.principal.account_id}:event-bus/{bus}"


def pattern_of(text: Any) -> Pattern:
    try:
        return parse_pattern(str(text))
    except InvalidPattern as exc:
        raise errors.invalid_pattern(str(exc)) from None


def encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(after.encode()).decode()


def decode_token(token: Any) -> str:
    if token is None:
        return ""
    try:
        return base64.urlsafe_b64decode(str(token).encode()).decode()
    except ValueError:
        raise errors.validation("The NextToken is not valid.") from None


class EventsBase(Service):
    def existing_rule(self, ctx: RequestContext, name: str, bus: str) -> Rule:
        rule = load_rule(self.platform.store, ctx.principal.account_id, ctx.region, bus, name)
        if rule is None:
            raise errors.rule_not_found(name, bus)
        return rule

    @staticmethod
    def describe(rule: Rule) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Name": rule.name,
            "Arn": rule.arn,
            "State": rule.state,
            "EventBusName": rule.bus,
        }
        if rule.event_pattern is not None:
            out["EventPattern"] = rule.event_pattern
        if rule.description is not None:
            out["Description"] = rule.description
        return out
