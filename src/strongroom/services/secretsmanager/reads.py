"""GetSecretValue (the hot path) and BatchGetSecretValue.

GetSecretValue is: a cached metadata lookup, one authorization, a cached
ciphertext lookup, one in-process KMS Decrypt of the data key and one
AES-GCM decryption. LastAccessedDate is kept to the day, so it costs one
write per secret per day and process, not one per read.
"""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.services.secretsmanager import errors
from strongroom.services.secretsmanager import records as rec
from strongroom.services.secretsmanager.common import SmBase
from strongroom.services.secretsmanager.envelope import open_value
from strongroom.services.secretsmanager.listing import ListingOperations, query_scope
from strongroom.services.secretsmanager.records import CURRENT, SecretRecord
from strongroom.services.secretsmanager.repository import SecretEntry, SecretsTxn
from strongroom.services.secretsmanager.tokens import next_token, page_start

MAX_BATCH = 20


def choose_version(entry: SecretEntry, version_id: object, stage: object) -> str:
    record = entry.record
    if version_id is not None:
        vid = str(version_id)
        if vid not in record.versions:
            raise errors.no_value_for_version(vid)
        if stage is not None and stage not in record.versions[vid].stages:
            raise errors.invalid_request(
                "You provided a VersionStage that is not associated to the provided VersionId."
            )
        return vid
    label = str(stage) if stage is not None else CURRENT
    found = entry.stages.get(label)
    if found is None:
        raise errors.no_value_for_stage(label)
    return found


class ReadOperations(ListingOperations, SmBase):
    def get_secret_value(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        version_id = params.get("VersionId")
        stage = params.get("VersionStage")
        extra: dict[str, Any] = {}
        if version_id is not None:
            extra["secretsmanager:VersionId"] = version_id
        if stage is not None:
            extra["secretsmanager:VersionStage"] = stage
        entry = self.lookup(ctx, params.get("SecretId"), "GetSecretValue", extra)
        return self.read_value(ctx, entry, version_id, stage)

    def read_value(
        self, ctx: RequestContext, entry: SecretEntry, version_id: object, stage: object
    ) -> dict[str, Any]:
        record = entry.record
        vid = choose_version(entry, version_id, stage)
        stored = self.repo.value(record, vid)
        if stored is None:
            raise errors.no_value_for_version(vid)
        plaintext = open_value(ctx, entry.arn, vid, stored)
        self._note_access(ctx, entry, vid)
        info = record.versions[vid]
        out: dict[str, Any] = {"ARN": entry.arn, "Name": record.name, "VersionId": vid}
        if stored.binary:
            out["SecretBinary"] = plaintext
        else:
            out["SecretString"] = plaintext.decode()
        out["VersionStages"] = list(info.stages)
        out["CreatedDate"] = rec.parse_iso(info.created)
        return out

    def _note_access(self, ctx: RequestContext, entry: SecretEntry, vid: str) -> None:
        """Record the day of access on the secret and the version, once a day."""
        day = rec.day_of(ctx.now)
        record = entry.record
        key = (record.account, record.region, record.uid, vid)
        if self._accessed.get(key) == day:
            return
        if record.last_accessed == day and record.versions[vid].last_accessed == day:
            self._accessed[key] = day
            return

        def mutate(current: SecretRecord, txn: SecretsTxn) -> None:
            current.last_accessed = day
            if vid in current.versions:
                current.versions[vid].last_accessed = day

        try:
            self.change(entry, mutate, touch=False)
        except ServiceError:  # deleted meanwhile: the read itself succeeded
            return
        if len(self._accessed) > 100_000:
            self._accessed.clear()
        self._accessed[key] = day

    def batch_get_secret_value(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("SecretIdList")
        filters = params.get("Filters")
        max_results = params.get("MaxResults")
        if (ids is None) == (filters is None):
            raise errors.invalid_parameter(
                "Either 'SecretIdList' or 'Filters' must be provided, but not both."
            )
        if max_results is not None and filters is None:
            raise errors.invalid_parameter(
                "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' "
                "is provided."
            )
        ctx.authorize("secretsmanager:BatchGetSecretValue", "*")
        out: dict[str, Any] = {}
        targets: list[str]
        if ids is not None:
            if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BATCH:
                raise errors.invalid_parameter(
                    f"SecretIdList must name between 1 and {MAX_BATCH} secrets."
                )
            targets = [str(i) for i in ids]
        else:
            ctx.authorize("secretsmanager:ListSecrets", "*")
            found = self.matching_records(ctx, params, include_deleted=False)
            limit = max_results or MAX_BATCH
            scope = query_scope(params, "batch" + ctx.account_id + ctx.region)
            start = page_start(params.get("NextToken"), scope)
            targets = [r.arn for r in found[start : start + limit]]
            if start + limit < len(found):
                out["NextToken"] = next_token(start + limit, scope)
        values: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for secret_id in targets:
            try:
                entry = self.lookup(ctx, secret_id, "GetSecretValue")
                values.append(self.read_value(ctx, entry, None, None))
            except ServiceError as exc:
                failures.append(
                    {"SecretId": secret_id, "ErrorCode": exc.code, "Message": exc.message}
                )
        out["SecretValues"] = values
        out["Errors"] = failures
        return out
