"""PolicyAuthorizer memoizes decisions on exactly what the engine reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

import strongroom.authz.authorizer as authorizer_module
from strongroom.authz.authorizer import PolicyAuthorizer
from strongroom.context import RequestContext
from strongroom.iam.credentials import PrincipalPolicies
from strongroom.iam.principal import Principal, PrincipalType

ACCOUNT = "111122223333"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _user(name: str) -> Principal:
    return Principal(
        account_id=ACCOUNT,
        arn=f"arn:aws:iam::{ACCOUNT}:user/{name}",
        type=PrincipalType.USER,
        principal_id=f"AIDA{name.upper()}",
        access_key_id=f"AKIA{name.upper()}",
        user_name=name,
    )


class _Identities:
    """policies_for from a dict the test changes as it goes."""

    def __init__(self) -> None:
        self.docs: dict[str, list[dict[str, Any]]] = {}

    def policies_for(self, principal: Principal) -> PrincipalPolicies:
        statements = self.docs.get(principal.arn)
        if not statements:
            return PrincipalPolicies(identity=(), boundary=None, session=())
        doc = json.dumps({"Version": "2012-10-17", "Statement": statements})
        return PrincipalPolicies(identity=(("inline", doc),), boundary=None, session=())


def _ctx(principal: Principal, source_ip: str = "10.0.0.1", agent: str = "a") -> RequestContext:
    return RequestContext(
        request_id="r",
        region="us-east-1",
        principal=principal,
        now=NOW,
        platform=None,  # type: ignore[arg-type]  # decide() never reads it
        service="kms",
        operation="Encrypt",
        source_ip=source_ip,
        user_agent=agent,
    )


@pytest.fixture
def evaluations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call that reached the engine, by action."""
    seen: list[str] = []
    real = authorizer_module.evaluate

    def counting(request: Any, policies: Any, *, is_root: bool = False) -> Any:
        seen.append(request.action)
        return real(request, policies, is_root=is_root)

    monkeypatch.setattr(authorizer_module, "evaluate", counting)
    return seen


def test_a_repeated_question_is_decided_once(evaluations: list[str]) -> None:
    identities = _Identities()
    alice = _user("alice")
    identities.docs[alice.arn] = [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}]
    authz = PolicyAuthorizer(identities)  # type: ignore[arg-type]
    for agent in ("a", "b", "c"):  # keys no policy reads do not matter
        assert authz.decide(_ctx(alice, agent=agent), "kms:Encrypt", "arn:k").allowed
    assert not authz.decide(_ctx(alice), "kms:Decrypt", "arn:k").allowed
    assert evaluations == ["kms:Encrypt", "kms:Decrypt"]


def test_values_of_keys_a_condition_reads_are_part_of_the_question(
    evaluations: list[str],
) -> None:
    identities = _Identities()
    alice = _user("alice")
    identities.docs[alice.arn] = [
        {
            "Effect": "Allow",
            "Action": "kms:Encrypt",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        }
    ]
    authz = PolicyAuthorizer(identities)  # type: ignore[arg-type]
    answers = [
        authz.decide(_ctx(alice, source_ip=ip), "kms:Encrypt", "arn:k").allowed
        for ip in ("10.1.2.3", "192.0.2.1", "10.1.2.3", "192.0.2.1")
    ]
    assert answers == [True, False, True, False]
    assert len(evaluations) == 2
    # A service-supplied condition key the policy reads: the same.
    identities.docs[alice.arn] = [
        {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}},
        }
    ]
    via = [
        authz.decide(
            _ctx(alice), "kms:Decrypt", "arn:k", conditions={"kms:ViaService": service}
        ).allowed
        for service in ("ssm.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com")
    ]
    assert via == [True, False]


def test_a_changed_policy_is_a_new_question(evaluations: list[str]) -> None:
    identities = _Identities()
    alice = _user("alice")
    authz = PolicyAuthorizer(identities)  # type: ignore[arg-type]
    assert not authz.decide(_ctx(alice), "kms:Encrypt", "arn:k").allowed
    identities.docs[alice.arn] = [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]
    assert authz.decide(_ctx(alice), "kms:Encrypt", "arn:k").allowed
    identities.docs[alice.arn] = [
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "kms:Encrypt", "Resource": "*"},
    ]
    decision = authz.decide(_ctx(alice), "kms:Encrypt", "arn:k")
    assert decision.kind == "explicit_deny"
    # A resource policy is part of the question too.
    key_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                }
            ],
        }
    )
    bob = _user("bob")
    assert authz.decide(_ctx(bob), "kms:Decrypt", "arn:k", resource_policy=key_policy).allowed
    assert not authz.decide(_ctx(bob), "kms:Decrypt", "arn:k").allowed
    assert len(evaluations) == 5


def test_policy_variables_resolve_per_principal() -> None:
    identities = _Identities()
    statement = {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:${{aws:username}}-*",
    }
    alice, bob = _user("alice"), _user("bob")
    identities.docs[alice.arn] = identities.docs[bob.arn] = [statement]
    authz = PolicyAuthorizer(identities)  # type: ignore[arg-type]
    arn = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:alice-db-AbCdEf"
    for _ in range(2):
        assert authz.decide(_ctx(alice), "secretsmanager:GetSecretValue", arn).allowed
        assert not authz.decide(_ctx(bob), "secretsmanager:GetSecretValue", arn).allowed
