"""DescribeParameters: metadata of the account's parameters (never values), with
ParameterFilters or the deprecated Filters, pagination, and ``Shared=true``
for the parameters other accounts share with this one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strongroom.context import RequestContext
from strongroom.services.ssm import errors, filters, paging
from strongroom.services.ssm import records as rec
from strongroom.services.ssm.common import SsmBase
from strongroom.services.ssm.names import check_path
from strongroom.services.ssm.records import Parameter
from strongroom.services.ssm.repository import prepare

DEFAULT_RESULTS, MAX_RESULTS = 10, 50


class DescribeOperations(SsmBase):
    def describe_parameters(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("Filters") and params.get("ParameterFilters"):
            raise errors.validation(
                "You can use either Filters or ParameterFilters in a single request."
            )
        wanted = filters.from_legacy(params.get("Filters")) + filters.parse(
            params.get("ParameterFilters"), by_path=False
        )
        limit = paging.limit(params.get("MaxResults"), DEFAULT_RESULTS, MAX_RESULTS)
        shared = bool(params.get("Shared"))
        kind = "describe-shared" if shared else "describe"
        after = paging.decode(kind, params.get("NextToken"))
        ctx.authorize("ssm:DescribeParameters", "*")
        # A Path filter bounds the scan: only names under the path can match.
        scan_prefix = ""
        path = next((f for f in wanted if f.key == "Path"), None)
        if path is not None and len(path.values) == 1 and path.values[0] != "/":
            scan_prefix = check_path(path.values[0])
        source = (
            self._shared(ctx, after)
            if shared
            else (
                (p.name, p)
                for p in self.repo.params(ctx.account_id, ctx.region, scan_prefix, after)
            )
        )
        out: list[dict[str, Any]] = []
        token: str | None = None
        last = ""
        for position, param in source:
            if not filters.match_all(param, param.current, wanted):
                continue
            if len(out) == limit:
                token = paging.encode(kind, last)
                break
            entry = prepare(param)
            out.append(self.metadata_out(entry, entry.arn if shared else None))
            last = position
        result: dict[str, Any] = {"Parameters": out}
        if token is not None:
            result["NextToken"] = token
        return result

    def _shared(self, ctx: RequestContext, after: str) -> Iterator[tuple[str, Parameter]]:
        """Parameters of other accounts whose resource policy names this account."""
        prefix = rec.shared_prefix(ctx.account_id, ctx.region)
        start = prefix + after if after else ""
        for key, _ in self.platform.store.scan(prefix, start_after=start):
            position = key[len(prefix) :]
            owner, _, name = position.partition("/")
            param = self.repo.read().param(owner, ctx.region, name)
            if param is not None and ctx.account_id in param.shared_with:
                yield position, param
