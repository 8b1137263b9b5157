"""Staging labels: AWS's move rules, UpdateSecretVersionStage, ListSecretVersionIds.

Rules (Secrets Manager API reference):
- a label is on at most one version; attaching it elsewhere moves it;
- moving AWSCURRENT moves AWSPREVIOUS to the version AWSCURRENT left;
- the first version of a secret always gets AWSCURRENT;
- AWSCURRENT can only be moved, never just removed;
- a version carries at most 20 labels; a version without labels is
  deprecated, and Secrets Manager may delete it (keeping the latest 100
  versions and every version younger than 24 hours).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from strongroom.context import RequestContext
from strongroom.services.secretsmanager import errors
from strongroom.services.secretsmanager import records as rec
from strongroom.services.secretsmanager.common import SmBase
from strongroom.services.secretsmanager.records import CURRENT, PREVIOUS, SecretRecord
from strongroom.services.secretsmanager.repository import SecretsTxn
from strongroom.services.secretsmanager.tokens import next_token, page_start

MAX_STAGES = 20
KEEP_VERSIONS = 100
KEEP_YOUNGER_THAN = timedelta(hours=24)
# Beyond this a secret refuses new versions (AWS: "you will reach the quota").
MAX_VERSIONS = 500


def check_stage_names(stages: object) -> list[str]:
    if not isinstance(stages, list) or not stages:
        raise errors.invalid_parameter("VersionStages must be a non-empty list of staging labels.")
    out: list[str] = []
    for stage in stages:
        if not isinstance(stage, str) or not 1 <= len(stage) <= 256:
            raise errors.invalid_parameter("A staging label must be 1 to 256 characters.")
        if stage not in out:
            out.append(stage)
    if len(out) > MAX_STAGES:
        raise errors.limit_exceeded(f"A version can have at most {MAX_STAGES} staging labels.")
    return out


def move_stage(record: SecretRecord, stage: str, version_id: str) -> None:
    """Attach ``stage`` to ``version_id``, moving it (and AWSPREVIOUS) as AWS does."""
    target = record.versions[version_id]
    holder = record.version_for_stage(stage)
    if holder == version_id:
        return
    if holder is not None:
        record.versions[holder].stages.remove(stage)
    if len(target.stages) >= MAX_STAGES:
        raise errors.limit_exceeded(f"A version can have at most {MAX_STAGES} staging labels.")
    target.stages.append(stage)
    if stage == CURRENT and holder is not None:
        move_stage(record, PREVIOUS, holder)


def remove_stage(record: SecretRecord, stage: str, version_id: str) -> None:
    stages = record.versions[version_id].stages
    if stage in stages:
        stages.remove(stage)


def prune_versions(record: SecretRecord, txn: SecretsTxn, now: datetime) -> list[str]:
    """Delete deprecated versions beyond the newest 100, except those under 24 hours old."""
    excess = len(record.versions) - KEEP_VERSIONS
    removed: list[str] = []
    if excess <= 0:
        return removed
    for vid, version in list(record.versions.items()):
        if excess <= 0:
            break
        if version.stages or now - rec.parse_iso(version.created) < KEEP_YOUNGER_THAN:
            continue
        del record.versions[vid]
        txn.delete_value(record, vid)
        removed.append(vid)
        excess -= 1
    return removed


def _known(record: SecretRecord, version_id: object, member: str) -> str | None:
    if version_id is None:
        return None
    if not isinstance(version_id, str) or version_id not in record.versions:
        raise errors.invalid_parameter(
            f"The {member} {version_id} is not a valid version of the secret."
        )
    return version_id


class StageOperations(SmBase):
    def update_secret_version_stage(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        stage = params.get("VersionStage")
        if not isinstance(stage, str) or not stage:
            raise errors.invalid_parameter("You must specify a VersionStage.")
        entry = self.lookup(
            ctx,
            params.get("SecretId"),
            "UpdateSecretVersionStage",
            {"secretsmanager:VersionStage": stage},
            allow_replica=False,
        )

        def mutate(record: SecretRecord, txn: SecretsTxn) -> None:
            move_to = _known(record, params.get("MoveToVersionId"), "MoveToVersionId")
            remove_from = _known(record, params.get("RemoveFromVersionId"), "RemoveFromVersionId")
            holder = record.version_for_stage(stage)
            if remove_from is not None and holder != remove_from:
                raise errors.invalid_parameter(
                    f"The staging label {stage} is not attached to version {remove_from}, "
                    "so it can't be removed from it."
                )
            if move_to is None:
                if remove_from is None:
                    raise errors.invalid_parameter(
                        "You must specify MoveToVersionId, RemoveFromVersionId or both."
                    )
                if stage == CURRENT:
                    raise errors.invalid_parameter(
                        "You can't remove the staging label AWSCURRENT from a version; "
                        "you can only move it to another version with MoveToVersionId."
                    )
                remove_stage(record, stage, remove_from)
                return
            if holder is not None and holder != move_to and remove_from != holder:
                raise errors.invalid_parameter(
                    f"The staging label {stage} is currently attached to version {holder}. "
                    "You must specify that version in RemoveFromVersionId to move the label."
                )
            move_stage(record, stage, move_to)

        record = self.change(entry, mutate)
        self.after_change(ctx, record)
        return {"ARN": record.arn, "Name": record.name}

    def list_secret_version_ids(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        entry = self.lookup(ctx, params.get("SecretId"), "ListSecretVersionIds", allow_deleted=True)
        record = entry.record
        include = bool(params.get("IncludeDeprecated"))
        # Newest first, as AWS lists them.
        rows = [
            (vid, v) for vid, v in reversed(list(record.versions.items())) if include or v.stages
        ]
        limit = params.get("MaxResults") or 100
        start = page_start(params.get("NextToken"), f"versions:{record.arn}:{include}")
        chunk = rows[start : start + limit]
        versions = []
        for vid, version in chunk:
            item: dict[str, Any] = {
                "VersionId": vid,
                "CreatedDate": rec.parse_iso(version.created),
                "KmsKeyIds": list(version.kms_key_ids),
            }
            if version.stages:
                item["VersionStages"] = list(version.stages)
            if version.last_accessed:
                item["LastAccessedDate"] = rec.parse_iso(version.last_accessed)
            versions.append(item)
        out: dict[str, Any] = {"Versions": versions, "ARN": record.arn, "Name": record.name}
        if start + limit < len(rows):
            out["NextToken"] = next_token(start + limit, f"versions:{record.arn}:{include}")
        return out
