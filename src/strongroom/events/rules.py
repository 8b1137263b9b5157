"""Rules and their targets, as stored records.

One record per rule at ``eventbridge/rules/<account>/<region>/<bus>/<name>``
holding the rule, its targets (at most 5, as in EventBridge) and the id of
the Secrets Manager secret whose value signs its HTTP deliveries (the
value itself is never stored here, nor sent through this API).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from strongroom.storage.base import Store, Txn

RULES_PREFIX = "eventbridge/rules/"
DEFAULT_BUS = "default"
MAX_TARGETS_PER_RULE = 5
MAX_RULES_PER_BUS = 300
ENABLED = "ENABLED"
DISABLED = "DISABLED"


@dataclass
class Rule:
    name: str
    account: str
    region: str
    bus: str
    state: str
    event_pattern: str | None = None
    description: str | None = None
    created_by: str = ""
    # Secrets Manager secret (name or ARN) holding the HMAC key for HTTP
    # targets (see docs/design/events.md).
    signing_secret_id: str | None = None
    targets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return rule_arn(self.account, self.region, self.bus, self.name)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Rule:
        return cls(**json.loads(data))


def rule_arn(account: str, region: str, bus: str, name: str) -> str:
    # EventBridge omits the bus from the ARN of rules on the default bus.
    path = name if bus == DEFAULT_BUS else f"{bus}/{name}"
    return f"arn:aws:events:{region}:{account}:rule/{path}"


def bus_prefix(account: str, region: str, bus: str = DEFAULT_BUS) -> str:
    return f"{RULES_PREFIX}{account}/{region}/{bus}/"


def rule_key(account: str, region: str, bus: str, name: str) -> str:
    return f"{bus_prefix(account, region, bus)}{name}"


def load_rule(txn: Txn, account: str, region: str, bus: str, name: str) -> Rule | None:
    data = txn.get(rule_key(account, region, bus, name))
    return Rule.from_json(data) if data is not None else None


def save_rule(txn: Txn, rule: Rule) -> None:
    txn.put(rule_key(rule.account, rule.region, rule.bus, rule.name), rule.to_json())


def rules_of_bus(store: Store, account: str, region: str, bus: str = DEFAULT_BUS) -> list[Rule]:
    return [Rule.from_json(v) for _, v in store.iter_scan(bus_prefix(account, region, bus))]
