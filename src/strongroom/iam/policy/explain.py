"""Human-readable explanations of decisions.

Used by ``strongroom policy simulate`` and to fill IAM SimulatePrincipalPolicy's
``MatchedStatements``: the reader wants to know which statement of which
policy decided, or, for an implicit deny, what was missing.
"""

from __future__ import annotations

from strongroom.iam.policy.model import Decision


def explain(decision: Decision) -> str:
    if decision.kind == "explicit_deny":
        head = "Denied: an explicit Deny applies (an explicit deny overrides every allow)."
        return "\n".join([head, *(f"  - {m.describe()}" for m in decision.matched)])
    if decision.kind == "allow":
        head = "Allowed by:"
        return "\n".join([head, *(f"  - {m.describe()}" for m in decision.matched)])
    lines = [f"Denied (implicit deny): {decision.missing or 'no policy allows the request'}."]
    if decision.matched:
        lines.append("Statements that allowed, but not enough on their own:")
        lines.extend(f"  - {m.describe()}" for m in decision.matched)
    return "\n".join(lines)
