"""ListSecrets: filters, sorting, pagination, IncludePlannedDeletion.

Filter semantics (API reference, ``Filter``): values within one filter are
alternatives, filters together must all hold; ``name``, ``tag-key``,
``tag-value``, ``primary-region`` and ``owning-service`` are case-sensitive
prefix matches, ``description`` a case-insensitive prefix match, ``all``
splits the value into words and looks for each in every attribute,
ignoring case. A value starting with ``!`` negates it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from strongroom.context import RequestContext
from strongroom.services.secretsmanager import errors
from strongroom.services.secretsmanager.common import SmBase
from strongroom.services.secretsmanager.records import SecretRecord
from strongroom.services.secretsmanager.tokens import next_token, page_start

FILTER_KEYS = (
    "description",
    "name",
    "tag-key",
    "tag-value",
    "primary-region",
    "owning-service",
    "all",
)
MAX_FILTERS = 10
_WORDS = re.compile(r"[\s/_+=.@:-]+")
_EPOCH = "0000"


def _attributes(record: SecretRecord, key: str) -> list[str]:
    if key == "name":
        return [record.name]
    if key == "description":
        return [record.description or ""]
    if key == "tag-key":
        return [t["Key"] for t in record.tags]
    if key == "tag-value":
        return [t["Value"] for t in record.tags]
    if key == "primary-region":
        return [record.primary_region or record.region]
    if key == "owning-service":
        return []
    return [
        *_attributes(record, "name"),
        *_attributes(record, "description"),
        *_attributes(record, "tag-key"),
        *_attributes(record, "tag-value"),
        *_attributes(record, "primary-region"),
    ]


def _matches(record: SecretRecord, key: str, value: str) -> bool:
    attrs = _attributes(record, key)
    if key == "all":
        words = [w.lower() for a in attrs for w in _WORDS.split(a) if w]
        wanted = [w.lower() for w in _WORDS.split(value) if w]
        return all(any(word.startswith(w) for word in words) for w in wanted)
    if key == "description":
        return any(a.lower().startswith(value.lower()) for a in attrs)
    return any(a.startswith(value) for a in attrs)


def check_filters(filters: object) -> list[tuple[str, list[str]]]:
    if filters is None:
        return []
    if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
        raise errors.invalid_parameter(f"You can specify at most {MAX_FILTERS} filters.")
    out = []
    for item in filters:
        key, values = item.get("Key"), item.get("Values")
        if key not in FILTER_KEYS:
            raise errors.invalid_parameter(
                f"Invalid filter key {key}. Valid keys: {', '.join(FILTER_KEYS)}."
            )
        if not isinstance(values, list) or not values:
            raise errors.invalid_parameter(f"The filter {key} needs at least one value.")
        out.append((str(key), [str(v) for v in values]))
    return out


def filter_predicate(filters: list[tuple[str, list[str]]]) -> Callable[[SecretRecord], bool]:
    def accept(record: SecretRecord) -> bool:
        for key, values in filters:
            positives = [v for v in values if not v.startswith("!")]
            negatives = [v[1:] for v in values if v.startswith("!")]
            if any(_matches(record, key, v) for v in negatives):
                return False
            if positives and not any(_matches(record, key, v) for v in positives):
                return False
        return True

    return accept


_SORT_FIELDS: dict[str, Callable[[SecretRecord], str]] = {
    "created-date": lambda r: r.created,
    "last-accessed-date": lambda r: r.last_accessed or _EPOCH,
    "last-changed-date": lambda r: r.last_changed,
    "name": lambda r: r.name,
}


def sort_records(records: Iterable[SecretRecord], params: Mapping[str, Any]) -> list[SecretRecord]:
    by = params.get("SortBy") or "created-date"
    order = params.get("SortOrder") or "desc"
    if by not in _SORT_FIELDS:
        raise errors.invalid_parameter(f"Invalid SortBy value {by}.")
    if order not in ("asc", "desc"):
        raise errors.invalid_parameter(f"Invalid SortOrder value {order}.")
    field = _SORT_FIELDS[by]
    # The name breaks ties so pages are stable between calls.
    return sorted(records, key=lambda r: (field(r), r.name), reverse=order == "desc")


def query_scope(params: Mapping[str, Any], extra: str = "") -> str:
    return repr(
        (
            params.get("Filters"),
            params.get("SortBy"),
            params.get("SortOrder"),
            bool(params.get("IncludePlannedDeletion")),
            extra,
        )
    )


class ListingOperations(SmBase):
    def matching_records(
        self, ctx: RequestContext, params: Mapping[str, Any], *, include_deleted: bool
    ) -> list[SecretRecord]:
        accept = filter_predicate(check_filters(params.get("Filters")))
        found = [
            r
            for r in self.repo.records(ctx.account_id, ctx.region)
            if (include_deleted or not r.deleted) and accept(r)
        ]
        return sort_records(found, params)

    def list_secrets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ctx.authorize("secretsmanager:ListSecrets", "*")
        include = bool(params.get("IncludePlannedDeletion"))
        found = self.matching_records(ctx, params, include_deleted=include)
        limit = params.get("MaxResults") or 100
        scope = query_scope(params, ctx.account_id + ctx.region)
        start = page_start(params.get("NextToken"), scope)
        out: dict[str, Any] = {
            "SecretList": [self.list_entry(r) for r in found[start : start + limit]]
        }
        if start + limit < len(found):
            out["NextToken"] = next_token(start + limit, scope)
        return out

    def list_entry(self, record: SecretRecord) -> dict[str, Any]:
        out = self.common_fields(record)
        out["SecretVersionsToStages"] = self.stages_map(record)
        if record.primary_region is None:
            out["PrimaryRegion"] = record.region
        return out
