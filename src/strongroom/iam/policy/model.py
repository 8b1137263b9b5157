"""The value types of the policy engine: parsed policies, requests, decisions.

Everything here is immutable: a parsed :class:`Policy` is shared by every
request that uses the same document (see ``parse_policy_cached``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Literal

from strongroom.iam.policy.conditions import Condition
from strongroom.iam.policy.matching import PatternSet, PrincipalSpec
from strongroom.iam.policy.variables import ContextValue


class PolicyKind(StrEnum):
    """Where a document is used; decides which elements it may or must have."""

    IDENTITY = "identity"  # user/group/role inline or managed policy: no Principal
    RESOURCE = "resource"  # key policy, secret policy...: Principal or NotPrincipal required
    TRUST = "trust"  # a role's trust policy: a resource policy without Resource
    SESSION = "session"  # AssumeRole/GetFederationToken session policy: like identity
    BOUNDARY = "boundary"  # permissions boundary: like identity

    @property
    def has_principal(self) -> bool:
        return self in (PolicyKind.RESOURCE, PolicyKind.TRUST)


Effect = Literal["Allow", "Deny"]


@dataclass(frozen=True, slots=True, eq=False)
class Statement:
    index: int  # 0-based position in the document
    sid: str | None
    allow: bool
    actions: PatternSet
    not_action: bool
    resources: PatternSet | None  # None: no Resource element (trust policies)
    not_resource: bool
    principal: PrincipalSpec | None  # None: no Principal element (identity-like kinds)
    not_principal: bool
    conditions: tuple[Condition, ...]

    @property
    def effect(self) -> Effect:
        return "Allow" if self.allow else "Deny"

    @property
    def ref(self) -> str:
        """How explanations name the statement: its Sid, else its position."""
        return f"'{self.sid}'" if self.sid else f"#{self.index + 1}"


@dataclass(frozen=True, slots=True, eq=False)
class Policy:
    version: str
    id: str | None
    statements: tuple[Statement, ...]
    kind: PolicyKind
    label: str = ""
    # condition keys and ${variable} keys the document reads, as written
    context_keys: frozenset[str] = frozenset()

    # MatchedStatement of every statement for every source, built once so a
    # decision does not allocate them per request
    _matched: Mapping[str, tuple[MatchedStatement, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        table = {
            source: tuple(
                MatchedStatement(self.label, source, st.sid, st.index, st.effect)
                for st in self.statements
            )
            for source in _SOURCES
        }
        object.__setattr__(self, "_matched", table)

    def matched_statement(self, source: Source, index: int) -> MatchedStatement:
        return self._matched[source][index]

    def with_label(self, label: str) -> Policy:
        return replace(self, label=label)


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """One authorization question: may ``principal_arn`` do ``action`` on ``resource``?

    ``context`` holds the condition keys (case-insensitive): aws:SourceIp,
    aws:CurrentTime, aws:PrincipalArn, aws:PrincipalTag/x, kms:..., filled by
    the caller. ``principal_ids`` are further identities a Principal element
    may name: for a role session the role ARN (the session ARN is
    ``principal_arn``); account ids / ``:root`` ARNs are recognized as such.
    """

    action: str
    resource: str
    principal_arn: str
    principal_account: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    principal_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicySet:
    identity: Sequence[Policy] = ()
    resource: Policy | None = None
    resource_account: str | None = None  # None: same account as the principal
    boundary: Policy | None = None  # None: no permissions boundary set
    session: Sequence[Policy] = ()  # empty: no session policy
    require_resource_policy: bool = False  # KMS key policies, role trust policies


Source = Literal["identity", "resource", "boundary", "session"]
_SOURCES: tuple[Source, ...] = ("identity", "resource", "boundary", "session")


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    policy: str  # the policy's label
    source: Source
    sid: str | None
    index: int  # 0-based statement position in the policy
    effect: Effect

    @property
    def ref(self) -> str:
        return f"'{self.sid}'" if self.sid else f"#{self.index + 1}"

    def describe(self) -> str:
        name = f" {self.policy}" if self.policy else ""
        return f"{self.effect} statement {self.ref} of {self.source} policy{name}"


DecisionKind = Literal["explicit_deny", "allow", "implicit_deny"]


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    kind: DecisionKind
    matched: tuple[MatchedStatement, ...]
    missing: str | None  # why an implicit deny happened, for humans
