"""PutTargets, RemoveTargets, ListTargetsByRule."""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.events.rules import MAX_TARGETS_PER_RULE, load_rule, rule_arn, save_rule
from strongroom.events.targets import HttpTarget, parse_target_arn, valid_input_path
from strongroom.services.events import errors
from strongroom.services.events.common import EventsBase, bus_name, decode_token, encode_token
from strongroom.services.events.rule_ops import SIGNING_SECRET_TAG

# What a target keeps: the members Strongroom acts on, returned as given.
_KEPT = ("Id", "Arn", "RoleArn", "Input", "InputPath", "HttpParameters", "RetryPolicy")


def _check_target(target: dict[str, Any], has_secret: bool) -> dict[str, Any]:
    kind = parse_target_arn(str(target["Arn"]))
    if kind is None:
        raise errors.validation(
            f"Target {target['Id']}: Strongroom delivers to 'strongroom:http:<url>' and "
            "'arn:aws:logs:<region>:<account>:log-group:<name>' targets only."
        )
    if isinstance(kind, HttpTarget) and not has_secret:
        raise errors.validation(
            f"Target {target['Id']}: HTTP targets need the rule to carry a "
            f"'{SIGNING_SECRET_TAG}' tag (set it with PutRule) to sign deliveries."
        )
    if target.get("Input") is not None and target.get("InputPath") is not None:
        raise errors.validation(
            f"Target {target['Id']}: Only one of Input and InputPath may be specified."
        )
    if target.get("InputTransformer") is not None:
        raise errors.validation(f"Target {target['Id']}: InputTransformer is not supported.")
    path = target.get("InputPath")
    if path is not None and not valid_input_path(str(path)):
        raise errors.validation(f"Target {target['Id']}: InputPath must be '$' or '$.a.b'.")
    return {k: target[k] for k in _KEPT if target.get(k) is not None}


class TargetOperations(EventsBase):
    def put_targets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params["Rule"])
        bus = bus_name(ctx, params.get("EventBusName"))
        account = ctx.principal.account_id
        ctx.authorize("events:PutTargets", rule_arn(account, ctx.region, bus, name))
        with self.platform.store.transaction() as txn:
            rule = load_rule(txn, account, ctx.region, bus, name)
            if rule is None:
                raise errors.rule_not_found(name, bus)
            checked = [
                _check_target(t, rule.signing_secret_id is not None) for t in params["Targets"]
            ]
            by_id = {t["Id"]: t for t in rule.targets}
            for target in checked:
                by_id[target["Id"]] = target
            if len(by_id) > MAX_TARGETS_PER_RULE:
                raise errors.limit_exceeded(
                    f"The requested resource exceeds the maximum number allowed "
                    f"({MAX_TARGETS_PER_RULE} targets per rule)."
                )
            rule.targets = list(by_id.values())
            save_rule(txn, rule)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def remove_targets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params["Rule"])
        bus = bus_name(ctx, params.get("EventBusName"))
        account = ctx.principal.account_id
        ctx.authorize("events:RemoveTargets", rule_arn(account, ctx.region, bus, name))
        ids = [str(i) for i in params["Ids"]]
        with self.platform.store.transaction() as txn:
            rule = load_rule(txn, account, ctx.region, bus, name)
            if rule is None:
                raise errors.rule_not_found(name, bus)
            present = {t["Id"] for t in rule.targets}
            rule.targets = [t for t in rule.targets if t["Id"] not in ids]
            save_rule(txn, rule)
        failed = [
            {
                "TargetId": i,
                "ErrorCode": "ResourceNotFoundException",
                "ErrorMessage": f"Target {i} does not exist on rule {name}.",
            }
            for i in ids
            if i not in present
        ]
        return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    def list_targets_by_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params["Rule"])
        bus = bus_name(ctx, params.get("EventBusName"))
        ctx.authorize(
            "events:ListTargetsByRule", rule_arn(ctx.principal.account_id, ctx.region, bus, name)
        )
        rule = self.existing_rule(ctx, name, bus)
        limit = int(params.get("Limit") or 100)
        after = decode_token(params.get("NextToken"))
        targets = sorted(rule.targets, key=lambda t: str(t["Id"]))
        if after:
            targets = [t for t in targets if str(t["Id"]) > after]
        out: dict[str, Any] = {"Targets": targets[:limit]}
        if len(targets) > limit:
            out["NextToken"] = encode_token(str(targets[limit - 1]["Id"]))
        return out
