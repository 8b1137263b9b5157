"""What a grant allows: operations, grantee, constraints, tokens (pure rules).

Sources: KMS Developer Guide, "Grants in AWS KMS", "Grant constraints",
"Grant tokens", and the CreateGrant API reference.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from typing import Any

from strongroom.iam.principal import Principal
from strongroom.services.kms import errors
from strongroom.services.kms.records import GrantRecord

# Grant operations whose requests carry an encryption context: the only ones
# grant constraints apply to.
CONTEXT_OPERATIONS = frozenset(
    {
        "Decrypt",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "ReEncryptFrom",
        "ReEncryptTo",
    }
)
# Constraints are allowed on grants that include these, but do not bind them.
CONSTRAINT_NEUTRAL = frozenset({"CreateGrant", "RetireGrant", "DescribeKey"})

_TOKEN_VERSION = "1"


def make_token(grant: GrantRecord) -> str:
    """An opaque grant token naming the grant.

    A token is not a secret and grants nothing by itself: it only lets the
    caller use a grant before it is visible everywhere (AWS's eventual
    consistency), so here it makes the service read the grant from the store
    instead of its cache. A random part makes each token distinct, as AWS's are.
    """
    body = {
        "v": _TOKEN_VERSION,
        "a": grant.account,
        "r": grant.region,
        "k": grant.key_id,
        "g": grant.grant_id,
        "n": os.urandom(16).hex(),
    }
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_token(token: str) -> tuple[str, str, str, str]:
    """(account, region, key id, grant id) of a token; InvalidGrantTokenException if not ours."""
    try:
        padded = token + "=" * (-len(token) % 4)
        body: Any = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(body, dict) or body.get("v") != _TOKEN_VERSION:
            raise ValueError("unknown token version")
        parts = (body["a"], body["r"], body["k"], body["g"])
        if not all(isinstance(p, str) and p for p in parts):
            raise ValueError("bad token")
        return parts
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise errors.invalid_grant_token() from None


def grantee_matches(grantee: str, principal: Principal) -> bool:
    """Whether the grant's grantee is the caller (or the role behind its session).

    A grant to an account (``…:root``) is handled by the caller, which must
    also check that the account's IAM policies allow the principal.
    """
    return grantee in (principal.arn, principal.identity_arn)


def is_account_grantee(grantee: str, principal: Principal) -> bool:
    return grantee in (f"arn:aws:iam::{principal.account_id}:root", principal.account_id)


def constraints_allow(
    grant: GrantRecord, operation: str, context: Mapping[str, str] | None
) -> bool:
    if not grant.constraints or operation not in CONTEXT_OPERATIONS:
        return True
    ec = dict(context or {})
    equals = grant.constraints.get("EncryptionContextEquals")
    if equals is not None and ec != equals:
        return False
    subset = grant.constraints.get("EncryptionContextSubset")
    return subset is None or all(ec.get(k) == v for k, v in subset.items())


def check_constraints_for(operations: list[str], constraints: Mapping[str, Any]) -> None:
    """CreateGrant: constraints only make sense with operations that take a context."""
    if not constraints:
        return
    bad = [op for op in operations if op not in CONTEXT_OPERATIONS | CONSTRAINT_NEUTRAL]
    if bad:
        raise errors.validation(
            f"Grant constraints are not supported for the grant operations {', '.join(bad)}: "
            "they take no encryption context."
        )


def at_least_as_strict(child: Mapping[str, Any], parent: Mapping[str, Any]) -> bool:
    """A grant created through a CreateGrant *grant* must keep its parent's constraints."""
    if not parent:
        return True
    p_equals = parent.get("EncryptionContextEquals")
    p_subset = parent.get("EncryptionContextSubset")
    c_equals = child.get("EncryptionContextEquals")
    c_subset = child.get("EncryptionContextSubset")
    if p_equals is not None:
        return bool(c_equals == p_equals)
    assert p_subset is not None
    held = c_equals if c_equals is not None else c_subset
    return held is not None and all(held.get(k) == v for k, v in p_subset.items())
