"""Creating a version: the value checks, ClientRequestToken idempotency,
envelope encryption, staging labels, and the RotationAbandoned rule.

Every KMS call happens before the store transaction opens: KMS may write
(its AWS managed key on first use) and store transactions do not nest.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from strongroom.context import RequestContext
from strongroom.services.secretsmanager import errors, events
from strongroom.services.secretsmanager import records as rec
from strongroom.services.secretsmanager.envelope import key_for_request, open_value, seal
from strongroom.services.secretsmanager.records import (
    CURRENT,
    PENDING,
    SecretRecord,
    VersionInfo,
    VersionValue,
)
from strongroom.services.secretsmanager.repository import SecretEntry, SecretsTxn
from strongroom.services.secretsmanager.stages import (
    MAX_VERSIONS,
    StageOperations,
    move_stage,
    prune_versions,
    remove_stage,
)

MAX_VALUE_BYTES = 65536


def secret_value(params: Mapping[str, Any]) -> tuple[bytes, bool] | None:
    """(value, is_binary) from SecretString/SecretBinary, or None when neither is given."""
    text = params.get("SecretString")
    binary = params.get("SecretBinary")
    if text is not None and binary is not None:
        raise errors.invalid_parameter(
            "You can't specify both a binary secret value and a string secret value in the "
            "same secret."
        )
    if text is not None:
        if not isinstance(text, str):
            raise errors.invalid_parameter("SecretString must be a string.")
        value, is_binary = text.encode(), False
    elif binary is not None:
        if not isinstance(binary, bytes):
            raise errors.invalid_parameter("SecretBinary must be binary data.")
        value, is_binary = binary, True
    else:
        return None
    if not value:
        raise errors.invalid_parameter("The secret value must not be empty.")
    if len(value) > MAX_VALUE_BYTES:
        raise errors.invalid_parameter(
            f"The secret value is larger than the maximum of {MAX_VALUE_BYTES} bytes."
        )
    return value, is_binary


def request_token(params: Mapping[str, Any]) -> str:
    token = params.get("ClientRequestToken")
    if token is None:
        return str(uuid.uuid4())
    if not isinstance(token, str) or not 32 <= len(token) <= 64:
        raise errors.invalid_parameter("ClientRequestToken must be 32 to 64 characters long.")
    return token


class VersionWriter(StageOperations):
    def same_value(
        self, ctx: RequestContext, record: SecretRecord, version_id: str, value: tuple[bytes, bool]
    ) -> bool:
        """Whether the existing version holds exactly ``value`` (needs kms:Decrypt)."""
        stored = self.repo.value(record, version_id)
        if stored is None:
            return False
        plaintext = open_value(ctx, record.arn, version_id, stored)
        return stored.binary == value[1] and plaintext == value[0]

    def seal_for(
        self, ctx: RequestContext, record: SecretRecord, version_id: str, value: tuple[bytes, bool]
    ) -> VersionValue:
        key_id = key_for_request(ctx, record.account, record.region, record.kms_key_id)
        return seal(ctx, key_id, record.arn, version_id, value[0], binary=value[1])

    @staticmethod
    def attach_version(
        record: SecretRecord,
        txn: SecretsTxn,
        version_id: str,
        sealed: VersionValue,
        stages: list[str] | None,
        now: str,
    ) -> bool:
        """Add the version with its labels; True when it abandoned a pending rotation."""
        placeholder = record.versions.get(version_id)
        if placeholder is not None and placeholder.has_value:
            raise errors.exists(errors.IMMUTABLE_VERSION)
        first = record.version_for_stage(CURRENT) is None
        if placeholder is not None:  # a rotation's AWSPENDING version gets its value
            placeholder.has_value = True
            placeholder.kms_key_ids = [sealed.kms_key_arn]
        else:
            record.versions[version_id] = VersionInfo(
                version_id=version_id, created=now, kms_key_ids=[sealed.kms_key_arn]
            )
        txn.put_value(record, version_id, sealed)
        labels = list(stages) if stages is not None else [CURRENT]
        if first and CURRENT not in labels:
            labels.append(CURRENT)
        abandoned = False
        if CURRENT in labels:
            pending = record.version_for_stage(PENDING)
            if pending is not None and pending != version_id and PENDING not in labels:
                # A manual update wins over an unfinished rotation (AWS: RotationAbandoned).
                remove_stage(record, PENDING, pending)
                record.rotation_token = None
                abandoned = True
        for label in labels:
            move_stage(record, label, version_id)
        prune_versions(record, txn, rec.parse_iso(now))
        return abandoned

    def write_version(
        self,
        ctx: RequestContext,
        entry: SecretEntry,
        value: tuple[bytes, bool],
        token: str,
        stages: list[str] | None,
    ) -> tuple[SecretRecord, bool]:
        """Create version ``token``; (record, created). Idempotent on the token."""
        record = entry.record
        existing = record.versions.get(token)
        if existing is not None and existing.has_value:
            if self.same_value(ctx, record, token, value):
                return record, False
            raise errors.exists(errors.IMMUTABLE_VERSION)
        if len(record.versions) >= MAX_VERSIONS:
            raise errors.limit_exceeded(
                f"The secret has reached the maximum of {MAX_VERSIONS} versions; "
                "deprecated versions are removed once they are 24 hours old."
            )
        sealed = self.seal_for(ctx, record, token, value)
        now = rec.iso(ctx.now)
        abandoned = False

        def mutate(current: SecretRecord, txn: SecretsTxn) -> None:
            nonlocal abandoned
            abandoned = self.attach_version(current, txn, token, sealed, stages, now)

        updated = self.change(entry, mutate, now=now)
        if abandoned:
            events.publish(
                self.platform,
                events.ROTATION_ABANDONED,
                updated.account,
                updated.region,
                updated.arn,
            )
        self.after_change(ctx, updated, {token: value})
        return updated, True
