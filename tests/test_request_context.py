"""RequestContext.acting_for: a nested call's context is the caller's, but for its service."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any, cast

from strongroom.context import RequestContext
from strongroom.iam.principal import Principal


def test_acting_for_keeps_every_other_field() -> None:
    ctx = RequestContext(
        request_id="r-1",
        region="eu-west-1",
        principal=cast(Principal, object()),
        now=datetime(2024, 5, 1, tzinfo=UTC),
        platform=cast(Any, object()),
        service="secretsmanager",
        operation="GetSecretValue",
        source_ip="10.0.0.7",
        user_agent="agent/1",
        secure_transport=True,
        audit={"resources": ["x"]},
    )
    audit = {"invokedBy": "secretsmanager.amazonaws.com"}
    nested = ctx.acting_for("kms", "Decrypt", audit)
    changed = {"service": "kms", "operation": "Decrypt", "audit": audit}
    for f in dataclasses.fields(RequestContext):  # a new field must be carried over too
        expected = changed.get(f.name, getattr(ctx, f.name))
        assert getattr(nested, f.name) is expected or getattr(nested, f.name) == expected, f.name
    assert nested.audit is audit and ctx.audit == {"resources": ["x"]}
