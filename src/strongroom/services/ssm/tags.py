"""AddTagsToResource / RemoveTagsFromResource / ListTagsForResource for parameters.

Up to 50 tags per parameter. Tags take part in authorization as
``aws:ResourceTag/<key>`` (every operation on the parameter) and, when a
request adds tags, ``aws:RequestTag/<key>`` and ``aws:TagKeys``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.services.ssm import errors
from strongroom.services.ssm.common import SsmBase
from strongroom.services.ssm.repository import Entry

MAX_TAGS = 50


def tag_dict(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """A TagList as a dict; a key given twice keeps its last value, as AWS does."""
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags or ()}


def request_tag_keys(tags: Mapping[str, str]) -> dict[str, Any]:
    keys: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    keys["aws:TagKeys"] = list(tags)
    return keys


class TagOperations(SsmBase):
    def _tagged(
        self,
        ctx: RequestContext,
        params: Mapping[str, Any],
        action: str,
        extra: Mapping[str, Any] | None = None,
    ) -> Entry:
        kind = str(params.get("ResourceType", ""))
        if kind != "Parameter":
            raise errors.invalid_resource_type(kind)
        resource_id = str(params.get("ResourceId") or "")
        try:
            ref = self.ref(ctx, resource_id, allow_selector=False)
        except ServiceError:
            raise errors.invalid_resource_id(resource_id) from None
        entry = self.lookup(ref)
        self.authorize(ctx, action, ref, entry, extra)
        if entry is None or ref.account != ctx.account_id:
            raise errors.invalid_resource_id(resource_id)
        return entry

    def add_tags_to_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = tag_dict(params.get("Tags"))
        entry = self._tagged(ctx, params, "AddTagsToResource", request_tag_keys(tags))
        with self.repo.write() as txn:
            param = txn.param(entry.param.account, entry.param.region, entry.param.name)
            if param is None:
                raise errors.invalid_resource_id(str(params.get("ResourceId")))
            merged = {**param.tags, **tags}
            if len(merged) > MAX_TAGS:
                raise errors.too_many_tags()
            param.tags = merged
            txn.put_param(param)
        return {}

    def remove_tags_from_resource(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        keys = [str(k) for k in params.get("TagKeys") or ()]
        entry = self._tagged(ctx, params, "RemoveTagsFromResource", {"aws:TagKeys": keys})
        with self.repo.write() as txn:
            param = txn.param(entry.param.account, entry.param.region, entry.param.name)
            if param is None:
                raise errors.invalid_resource_id(str(params.get("ResourceId")))
            param.tags = {k: v for k, v in param.tags.items() if k not in keys}
            txn.put_param(param)
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._tagged(ctx, params, "ListTagsForResource")
        return {"TagList": [{"Key": k, "Value": v} for k, v in entry.param.tags.items()]}
