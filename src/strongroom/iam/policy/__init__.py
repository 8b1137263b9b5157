"""The IAM policy language and its evaluation: pure, no I/O, no clock.

``parse_policy`` validates a document once into an immutable :class:`Policy`
(wildcards precompiled); ``evaluate`` answers one :class:`RequestInfo`
against a :class:`PolicySet` following AWS's documented evaluation logic;
``explain`` turns the :class:`Decision` into text. See
docs/design/policy-engine.md.
"""

from strongroom.iam.policy.conditions import OPERATOR_NAMES
from strongroom.iam.policy.document import MalformedPolicy, parse_policy, parse_policy_cached
from strongroom.iam.policy.evaluate import evaluate
from strongroom.iam.policy.explain import explain
from strongroom.iam.policy.matching import wildcard_match
from strongroom.iam.policy.model import (
    Decision,
    MatchedStatement,
    Policy,
    PolicyKind,
    PolicySet,
    RequestInfo,
    Statement,
)

__all__ = [
    "OPERATOR_NAMES",
    "Decision",
    "MalformedPolicy",
    "MatchedStatement",
    "Policy",
    "PolicyKind",
    "PolicySet",
    "RequestInfo",
    "Statement",
    "evaluate",
    "explain",
    "parse_policy",
    "parse_policy_cached",
    "wildcard_match",
]
