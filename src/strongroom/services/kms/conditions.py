"""KMS condition keys for the request context (KMS Developer Guide, "AWS KMS
condition keys").

Keys that describe the key itself (kms:KeySpec, aws:ResourceTag/…) are
precomputed per cached key (:func:`repository.key_conditions`); this module
builds the per-request ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.context import RequestContext

# ctx.audit member set by the in-process client (client.py): the service that
# calls KMS on the caller's behalf, as CloudTrail's ``invokedBy`` names it.
INVOKED_BY = "invokedBy"


def caller_keys(ctx: RequestContext) -> dict[str, Any]:
    """kms:CallerAccount, and kms:ViaService when another service calls for the user."""
    keys: dict[str, Any] = {"kms:CallerAccount": ctx.account_id}
    invoked_by = ctx.audit.get(INVOKED_BY)
    if invoked_by:
        service = str(invoked_by).split(".", 1)[0]
        keys["kms:ViaService"] = f"{service}.{ctx.region}.amazonaws.com"
        keys["aws:ViaAWSService"] = True
        keys["aws:CalledVia"] = [str(invoked_by)]
        keys["aws:CalledViaFirst"] = str(invoked_by)
        keys["aws:CalledViaLast"] = str(invoked_by)
    return keys


def context_keys(context: Mapping[str, str] | None) -> dict[str, Any]:
    """kms:EncryptionContext:<key> and kms:EncryptionContextKeys."""
    if not context:
        return {}
    keys: dict[str, Any] = {f"kms:EncryptionContext:{k}": v for k, v in context.items()}
    keys["kms:EncryptionContextKeys"] = list(context)
    return keys


def request_tag_keys(tags: Mapping[str, str]) -> dict[str, Any]:
    """aws:RequestTag/<key> and aws:TagKeys for CreateKey, TagResource, ReplicateKey."""
    keys: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    keys["aws:TagKeys"] = list(tags)
    return keys
