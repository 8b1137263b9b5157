"""The background job that enforces parameter policies.

Parameter Store "enforces parameter policies by using asynchronous, periodic
scans". Every policy that will act has an entry ``ssm/due/<ISO time>/<id>``
(written with the parameter, see ``SsmBase.reschedule``); the job reads the
entries whose time has come, in time order, and for each one, in its own
transaction: an Expiration deletes the parameter with all its versions; a
notification marks the policy Finished. The "Parameter Store Policy Action"
event is published after that commits. An entry the parameter no longer
lists (policies replaced, parameter deleted or re-created) is just dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from strongroom.services.ssm import records as rec
from strongroom.services.ssm.common import SsmBase
from strongroom.services.ssm.policies import (
    EXPIRATION,
    EXPIRATION_NOTIFICATION,
    FINISHED,
    policy_of,
)
from strongroom.services.ssm.records import Parameter

EVERY_SECONDS = 10.0
_BATCH = 100


@dataclass
class _Outcome:
    param: Parameter
    policy: dict[str, str]


def _reason(param: Parameter, policy: dict[str, str]) -> str:
    attributes = policy_of(policy).attributes
    kind = policy["PolicyType"]
    if kind == EXPIRATION:
        return (
            f"Parameter {param.name} was deleted: the time of its Expiration policy "
            f"({attributes['Timestamp']}) was reached."
        )
    expiry = next(
        (
            policy_of(p).attributes["Timestamp"]
            for p in param.current.policies
            if p["PolicyType"] == EXPIRATION
        ),
        "",
    )
    if kind == EXPIRATION_NOTIFICATION:
        return (
            f"Parameter {param.name} will expire at {expiry} "
            f"({attributes['Before']} {attributes['Unit']} from the notification time)."
        )
    return (
        f"Parameter {param.name} has not been modified for {attributes['After']} "
        f"{attributes['Unit']}."
    )


class PolicyJobs:
    def __init__(self, service: SsmBase) -> None:
        self.service = service

    def run(self, now: datetime) -> int:
        """Act on every policy due at ``now``; returns how many acted."""
        bound = f"{rec.DUE}{rec.iso(now)}~"  # '~' sorts after the '/<id>' of that instant
        store = self.service.platform.store
        acted = 0
        after = ""
        while True:
            rows = store.scan(rec.DUE, start_after=after, limit=_BATCH)
            due = [(key, raw) for key, raw in rows if key <= bound]
            for key, raw in due:
                outcome = self._act(key, json.loads(raw))
                if outcome is not None:
                    acted += 1
                    self.service.policy_event(
                        outcome.param, outcome.policy, _reason(outcome.param, outcome.policy)
                    )
            if len(due) < len(rows) or len(rows) < _BATCH:
                return acted
            after = rows[-1][0]

    def _act(self, key: str, body: dict[str, Any]) -> _Outcome | None:
        with self.service.repo.write() as txn:
            txn.txn.delete(key)
            param = txn.param(body["account"], body["region"], body["name"])
            if param is None or key not in param.due:
                return None
            index = int(body["index"])
            policy = param.current.policies[index]
            if policy["PolicyType"] == EXPIRATION:
                param.due.remove(key)
                txn.delete_param(param)
                txn.add_count(param.account, param.region, param.current.tier, -1)
                return _Outcome(param, dict(policy))
            policy["PolicyStatus"] = FINISHED
            param.due.remove(key)
            txn.put_version(param, param.current)
            txn.put_param(param)
            return _Outcome(param, dict(policy))
