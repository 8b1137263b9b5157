"""RotateSecret, CancelRotateSecret, and the job that runs rotations.

As in AWS, RotateSecret returns at once: it records the rotation settings
and, for an immediate rotation, creates the new version (id = the
ClientRequestToken) labelled AWSPENDING with no value yet. The rotation
itself — the rotator's four steps — runs in the background job, like AWS's
asynchronous Lambda invocation; a request never waits on a database or an
HTTP endpoint. The job also starts scheduled rotations when their window
opens, and retries failed ones with backoff (a few times, then at the next
window), always with the same token: AWSCURRENT keeps working meanwhile.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from strongroom.context import RequestContext
from strongroom.rotators import STEPS, RotatorRegistry
from strongroom.rotators.client import InProcessSecretsClient
from strongroom.rotators.factory import build
from strongroom.services.secretsmanager import errors, events
from strongroom.services.secretsmanager import records as rec
from strongroom.services.secretsmanager.common import SmBase
from strongroom.services.secretsmanager.records import CURRENT, PENDING, SecretRecord, VersionInfo
from strongroom.services.secretsmanager.repository import SecretsTxn
from strongroom.services.secretsmanager.schedule import Schedule, parse_rules, stored_schedule
from strongroom.services.secretsmanager.stages import move_stage, remove_stage
from strongroom.services.secretsmanager.versions import request_token

log = logging.getLogger("strongroom.secretsmanager")

RETRY_SECONDS = (60, 300, 900, 3600, 4 * 3600)
_MAX_MESSAGE = 500


def _schedule(record: SecretRecord) -> Schedule | None:
    if not record.rotation_rules or not record.rotation_enabled:
        return None
    return stored_schedule(record.rotation_rules)


def _add_pending(record: SecretRecord, token: str, now: str) -> None:
    if token not in record.versions:
        record.versions[token] = VersionInfo(version_id=token, created=now, has_value=False)
    move_stage(record, PENDING, token)


def _in_progress(record: SecretRecord) -> bool:
    pending = record.version_for_stage(PENDING)
    return (
        record.rotation_token is not None
        and pending is not None
        and pending != record.version_for_stage(CURRENT)
    )


class RotationOperations(SmBase):
    @property
    def rotators(self) -> RotatorRegistry:
        return RotatorRegistry(self.platform.store)

    def rotate_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        lambda_arn = params.get("RotationLambdaARN") or None
        rules = params.get("RotationRules")
        immediately = params.get("RotateImmediately")
        immediately = True if immediately is None else bool(immediately)
        conditions: dict[str, Any] = {
            "secretsmanager:RotateImmediately": immediately,
            "secretsmanager:ModifyRotationRules": rules is not None,
        }
        if lambda_arn:
            conditions["secretsmanager:RotationLambdaARN"] = lambda_arn
        entry = self.lookup(
            ctx, params.get("SecretId"), "RotateSecret", conditions, allow_replica=False
        )
        record = entry.record
        if record.cross_account_primary is not None:
            raise errors.invalid_request("You can't rotate a cross-account replica secret.")
        arn = lambda_arn or record.rotation_lambda_arn
        if not arn:
            raise errors.invalid_request(
                "No Lambda rotation function ARN is associated with this secret."
            )
        if self.rotators.by_arn(arn) is None:
            raise errors.cannot_invoke_rotator()
        ctx.authorize("lambda:InvokeFunction", arn)
        shown: dict[str, Any] | None = None
        schedule: Schedule | None = None
        if rules is not None:
            schedule, shown = parse_rules(rules)
        elif record.rotation_rules:
            schedule = stored_schedule(record.rotation_rules)
        token = request_token(params)
        if immediately and _in_progress(record):
            if record.rotation_token == token:
                return {"ARN": record.arn, "Name": record.name, "VersionId": token}
            raise errors.invalid_request(
                "A previous rotation isn't complete. That rotation will be reattempted."
            )
        if immediately and token in record.versions:
            raise errors.exists(errors.IMMUTABLE_VERSION)
        now = ctx.now
        metadata = params.get("ExternalSecretRotationMetadata")
        role = params.get("ExternalSecretRotationRoleArn")

        def mutate(current: SecretRecord, txn: SecretsTxn) -> None:
            current.rotation_lambda_arn = arn
            if shown is not None:
                current.rotation_rules = shown
            current.rotation_enabled = schedule is not None or bool(current.rotation_enabled)
            if metadata is not None:
                current.external_rotation_metadata = list(metadata)
            if role is not None:
                current.external_rotation_role_arn = str(role)
            current.rotation_failures = 0
            if immediately:
                _add_pending(current, token, rec.iso(now))
                current.rotation_token = token
                current.rotation_due = rec.iso(now)
            elif schedule is not None:
                start, end = schedule.next_window(now)
                current.rotation_due, current.next_rotation = rec.iso(start), rec.iso(end)

        record = self.change(entry, mutate)
        self.after_change(ctx, record)
        out: dict[str, Any] = {"ARN": record.arn, "Name": record.name}
        if immediately:
            out["VersionId"] = token
        return out

    def cancel_rotate_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self.lookup(ctx, params.get("SecretId"), "CancelRotateSecret", allow_replica=False)
        pending = entry.record.version_for_stage(PENDING)

        def mutate(current: SecretRecord, txn: SecretsTxn) -> None:
            # AWS leaves AWSPENDING where it is: the caller may remove it.
            current.rotation_enabled = False
            current.rotation_due = None
            current.next_rotation = None
            current.rotation_token = None

        record = self.change(entry, mutate)
        self.after_change(ctx, record)
        out: dict[str, Any] = {"ARN": record.arn, "Name": record.name}
        if pending is not None:
            out["VersionId"] = pending
        return out

    # -- the background job ------------------------------------------------------

    def rotate_due(self, now: datetime) -> int:
        """Run every rotation whose time has come; returns how many ran."""
        ran = 0
        for account, region, name in self.repo.due(rec.DUE_ROTATE, rec.due_stamp(now)):
            try:
                if self.run_rotation(account, region, name, now):
                    ran += 1
            except Exception:  # one secret's trouble must not stop the others
                log.exception("rotation of %s in %s/%s failed unexpectedly", name, account, region)
        return ran

    def _claim(self, account: str, region: str, name: str, now: datetime) -> SecretRecord | None:
        """Take the rotation: fix its token and push its due time to the retry time,
        so that a crash mid-rotation leads to a retry, not to a tight loop."""
        with self.repo.write() as txn:
            record = txn.get(account, region, name)
            if record is None or record.rotation_due is None or record.deleted:
                return None
            if rec.parse_iso(record.rotation_due) > now:
                return None
            previous = SecretRecord.loads(record.dumps())
            if not record.rotation_lambda_arn or (
                record.rotation_token is None and not record.rotation_enabled
            ):
                record.rotation_due = None
                txn.put(record, previous)
                return None
            if record.rotation_token is None:
                record.rotation_token = str(uuid.uuid4())
            _add_pending(record, record.rotation_token, rec.iso(now))
            delay = RETRY_SECONDS[min(record.rotation_failures, len(RETRY_SECONDS) - 1)]
            record.rotation_due = rec.iso(now + timedelta(seconds=delay))
            txn.put(record, previous)
        return record

    def run_rotation(self, account: str, region: str, name: str, now: datetime) -> bool:
        record = self._claim(account, region, name, now)
        if record is None or record.rotation_token is None or record.rotation_lambda_arn is None:
            return False
        token, arn = record.rotation_token, record.arn
        events.publish(self.platform, events.ROTATION_STARTED, account, region, arn)
        failed_step, problem = self._run_steps(record, token)
        if failed_step is None:
            check = self.repo.read().get(account, region, name)
            if (
                check is None
                or CURRENT not in check.versions.get(token, VersionInfo("", "")).stages
            ):
                failed_step, problem = (
                    "finishSecret",
                    ("The rotator finished without moving AWSCURRENT to the new version."),
                )
        if failed_step is None:
            self._succeeded(account, region, name, token, now)
            events.publish(self.platform, events.ROTATION_SUCCEEDED, account, region, arn)
            return True
        self._failed(account, region, name, now)
        events.publish(
            self.platform,
            events.ROTATION_FAILED,
            account,
            region,
            arn,
            {"Step": failed_step, "ClientRequestToken": token},
            error_message=problem,
        )
        return True

    def _run_steps(self, record: SecretRecord, token: str) -> tuple[str | None, str | None]:
        rotator_record = self.rotators.by_arn(record.rotation_lambda_arn or "")
        if rotator_record is None:
            return "createSecret", f"The rotator {record.rotation_lambda_arn} is not registered."
        try:
            rotator = build(rotator_record)
        except Exception as exc:
            return "createSecret", f"The rotator cannot be built: {exc}"[:_MAX_MESSAGE]
        client = InProcessSecretsClient(self.platform, self, record.account, record.region)
        for step in STEPS:
            event = {"Step": step, "SecretId": record.arn, "ClientRequestToken": token}
            try:
                rotator.invoke(event, client)
            except Exception as exc:
                log.warning(
                    "rotation step %s of %s failed: %s", step, record.arn, type(exc).__name__
                )
                return step, str(exc)[:_MAX_MESSAGE] or type(exc).__name__
        return None, None

    def _succeeded(self, account: str, region: str, name: str, token: str, now: datetime) -> None:
        with self.repo.write() as txn:
            record = txn.get(account, region, name)
            if record is None:
                return
            previous = SecretRecord.loads(record.dumps())
            if token in record.versions:
                remove_stage(record, PENDING, token)
            record.rotation_token = None
            record.rotation_failures = 0
            record.last_rotated = rec.iso(now)
            schedule = _schedule(record)
            if schedule is not None:
                start, end = schedule.next_window(now)
                record.rotation_due, record.next_rotation = rec.iso(start), rec.iso(end)
            else:
                record.rotation_due = record.next_rotation = None
            txn.put(record, previous)

    def _failed(self, account: str, region: str, name: str, now: datetime) -> None:
        with self.repo.write() as txn:
            record = txn.get(account, region, name)
            if record is None:
                return
            previous = SecretRecord.loads(record.dumps())
            record.rotation_failures += 1
            if record.rotation_failures <= len(RETRY_SECONDS):
                delay = RETRY_SECONDS[record.rotation_failures - 1]
                record.rotation_due = rec.iso(now + timedelta(seconds=delay))
            else:  # give up until the next scheduled window, keeping AWSPENDING
                schedule = _schedule(record)
                start = schedule.next_window(now)[0] if schedule is not None else None
                record.rotation_due = rec.iso(start) if start is not None else None
            txn.put(record, previous)
