"""Table-driven evaluation scenarios built from the IAM User Guide examples.

The data is in evaluation_cases.yaml (provenance noted per block there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from strongroom.iam.policy import (
    PolicyKind,
    PolicySet,
    RequestInfo,
    evaluate,
    explain,
    parse_policy,
)

DATA = yaml.safe_load((Path(__file__).parent / "evaluation_cases.yaml").read_text())
POLICIES: dict[str, Any] = DATA["policies"]
PRINCIPALS: dict[str, Any] = DATA["principals"]
CASES: list[dict[str, Any]] = DATA["cases"]


def _policy(ref: str | dict[str, Any], kind: PolicyKind) -> Any:
    doc = POLICIES[ref] if isinstance(ref, str) else ref
    return parse_policy(doc, kind=kind, label=ref if isinstance(ref, str) else "inline")


def _run(case: dict[str, Any]) -> Any:
    who = PRINCIPALS[case["principal"]]
    context = {**who.get("context", {}), **case.get("context", {})}
    request = RequestInfo(
        action=case["action"],
        resource=case["target"],
        principal_arn=who["arn"],
        principal_account=who["account"],
        context=context,
        principal_ids=tuple(who.get("ids", ())),
    )
    resource_kind = (
        PolicyKind.TRUST if case.get("resource_kind") == "trust" else PolicyKind.RESOURCE
    )
    policies = PolicySet(
        identity=[_policy(p, PolicyKind.IDENTITY) for p in case.get("identity", [])],
        resource=_policy(case["resource"], resource_kind) if "resource" in case else None,
        resource_account=case.get("resource_account"),
        boundary=_policy(case["boundary"], PolicyKind.BOUNDARY) if "boundary" in case else None,
        session=[_policy(p, PolicyKind.SESSION) for p in case.get("session", [])],
        require_resource_policy=case.get("require_resource_policy", False),
    )
    return evaluate(request, policies, is_root=who.get("root", False))


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 100
    assert len({c["id"] for c in CASES}) == len(CASES), "case ids must be unique"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_evaluation_case(case: dict[str, Any]) -> None:
    decision = _run(case)
    assert decision.kind == case["expect"], explain(decision)
    assert decision.allowed == (case["expect"] == "allow")
    sids = {m.sid for m in decision.matched}
    for sid in case.get("matched", []):
        assert sid in sids, f"{sid} not in {sids}: {explain(decision)}"
    if "missing" in case:
        assert decision.missing is not None and case["missing"] in decision.missing, (
            decision.missing
        )
    if decision.kind == "implicit_deny":
        assert decision.missing, "an implicit deny must say what is missing"
    else:
        assert decision.missing is None
        # the root user is allowed by no statement at all in its own account
        if not PRINCIPALS[case["principal"]].get("root"):
            assert decision.matched, "allow and explicit deny name their statements"
    if decision.kind == "explicit_deny":
        assert all(m.effect == "Deny" for m in decision.matched)
