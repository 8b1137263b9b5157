"""TagResource, UntagResource, ListResourceTags (tags feed aws:ResourceTag/… conditions)."""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.services.kms import errors
from strongroom.services.kms.common import MAX_TAGS, KmsBase, check_tags, paged, tag_list
from strongroom.services.kms.conditions import request_tag_keys
from strongroom.services.kms.records import KeyRecord
from strongroom.services.kms.repository import KeyEntry, KmsTxn


class TagOperations(KmsBase):
    def _taggable(self, ctx: RequestContext, params: dict[str, Any]) -> KeyEntry:
        entry, _ = self.lookup(ctx, params, allow_alias=False)
        self.require_same_account(ctx, entry)
        return entry

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._taggable(ctx, params)
        tags = check_tags(params.get("Tags"))
        self.authorize(ctx, entry, "TagResource", extra=request_tag_keys(tags))
        if entry.record.manager == "AWS":
            raise errors.unsupported("AWS managed keys cannot be tagged.")

        def change(record: KeyRecord, txn: KmsTxn) -> None:
            merged = {**record.tags, **tags}
            if len(merged) > MAX_TAGS:
                raise errors.limit_exceeded(
                    f"The request was rejected because a KMS key can have at most {MAX_TAGS} tags."
                )
            record.tags = merged

        self.update_key(entry, "TagResource", change)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._taggable(ctx, params)
        keys = params.get("TagKeys")
        if not isinstance(keys, list):
            raise errors.validation(
                "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                "constraint: Member must not be null"
            )
        self.authorize(ctx, entry, "UntagResource", extra={"aws:TagKeys": list(keys)})

        def change(record: KeyRecord, txn: KmsTxn) -> None:
            record.tags = {k: v for k, v in record.tags.items() if k not in keys}

        self.update_key(entry, "UntagResource", change)
        return {}

    def list_resource_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._taggable(ctx, params)
        self.authorize(ctx, entry, "ListResourceTags")
        limit_params = {**params, "Limit": params.get("Limit") or MAX_TAGS}
        return paged(tag_list(entry.record.tags), limit_params, "Tags")
