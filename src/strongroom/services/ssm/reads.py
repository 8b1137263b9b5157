"""GetParameter, GetParameters, GetParametersByPath, GetParameterHistory.

GetParameter is the hot path: a cached record, one authorization, and for a
SecureString with ``WithDecryption`` one in-process KMS ``Decrypt`` (where
the caller's ``kms:Decrypt`` is checked against the key policy).
A parameter shared from another account is read by its full ARN; its
resource policy then takes part in the authorization.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.services.ssm import errors, filters, paging
from strongroom.services.ssm.common import SsmBase
from strongroom.services.ssm.names import ParamRef, check_path
from strongroom.services.ssm.records import Parameter, Version
from strongroom.services.ssm.repository import Entry, prepare

BY_PATH_DEFAULT, BY_PATH_MAX = 10, 10
HISTORY_DEFAULT, HISTORY_MAX = 50, 50


class ReadOperations(SsmBase):
    def get_parameter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, params.get("Name"))
        entry = self.lookup(ref)
        self.authorize(ctx, "GetParameter", ref, entry)
        if entry is None:
            raise errors.not_found(ref.requested)
        version = self.version_for(ref, entry)
        return {
            "Parameter": self.parameter_out(
                ctx,
                entry,
                version,
                bool(params.get("WithDecryption")),
                name=ref.requested,
                selector=ref.selector,
            )
        }

    def get_parameters(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        decrypt = bool(params.get("WithDecryption"))
        found: list[dict[str, Any]] = []
        invalid: list[str] = []
        seen: set[str] = set()
        for raw in params.get("Names") or ():
            name = str(raw)
            if name in seen:
                continue
            seen.add(name)
            try:
                ref = self.ref(ctx, name)
            except ServiceError:
                invalid.append(name)
                continue
            entry = self.lookup(ref)
            self.authorize(ctx, "GetParameters", ref, entry)
            if entry is None:
                invalid.append(name)
                continue
            try:
                version = self.version_for(ref, entry)
            except ServiceError as err:
                if err.code != "ParameterVersionNotFound":
                    raise
                invalid.append(name)
                continue
            found.append(
                self.parameter_out(
                    ctx, entry, version, decrypt, name=ref.requested, selector=ref.selector
                )
            )
        return {"Parameters": found, "InvalidParameters": invalid}

    # -- by path -----------------------------------------------------------------

    def get_parameters_by_path(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        path = str(params.get("Path") or "")
        prefix = check_path(path)
        recursive = bool(params.get("Recursive"))
        wanted = filters.parse(params.get("ParameterFilters"), by_path=True)
        limit = paging.limit(params.get("MaxResults"), BY_PATH_DEFAULT, BY_PATH_MAX)
        after = paging.decode("by-path", params.get("NextToken"))
        decrypt = bool(params.get("WithDecryption"))
        arn_path = prefix.rstrip("/") or "/"
        ctx.authorize(
            "ssm:GetParametersByPath",
            f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:parameter{arn_path}",
            conditions={"ssm:Recursive": "true" if recursive else "false"},
        )
        labels = next((f.values for f in wanted if f.key == "Label"), ())
        others = [f for f in wanted if f.key != "Label"]
        out: list[dict[str, Any]] = []
        token: str | None = None
        scan_prefix = "" if prefix == "/" else prefix
        for param in self.repo.params(ctx.account_id, ctx.region, scan_prefix, after):
            if not filters.in_path(param.name, prefix, recursive):
                continue
            picked = self._pick(param, labels)
            if picked is None or not filters.match_all(param, picked[0], others):
                continue
            if len(out) == limit:
                token = paging.encode("by-path", out[-1]["Name"])
                break
            version, label = picked
            entry = prepare(param)
            out.append(
                self.parameter_out(
                    ctx,
                    entry,
                    version,
                    decrypt,
                    name=param.name,
                    selector=f":{label}" if label else None,
                )
            )
        result: dict[str, Any] = {"Parameters": out}
        if token is not None:
            result["NextToken"] = token
        return result

    def _pick(self, param: Parameter, labels: tuple[str, ...]) -> tuple[Version, str | None] | None:
        """The version a Label filter selects (the current one without the filter)."""
        if not labels:
            return param.current, None
        for label in labels:
            number = param.labels.get(label)
            if number is None:
                continue
            if number == param.current.version:
                return param.current, label
            found = self.repo.read().version(param.account, param.region, param.name, number)
            if found is not None:
                return found, label
        return None

    # -- history -------------------------------------------------------------------

    def get_parameter_history(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref, entry = self.existing(ctx, "GetParameterHistory", params.get("Name"))
        limit = paging.limit(params.get("MaxResults"), HISTORY_DEFAULT, HISTORY_MAX)
        after = paging.decode("history", params.get("NextToken"))
        decrypt = bool(params.get("WithDecryption"))
        start = int(after) if after.isdigit() else 0
        param = entry.param
        rows = [v for v in self._history(ref, entry) if v.version > start]
        page, rest = rows[:limit], rows[limit:]
        result: dict[str, Any] = {
            "Parameters": [self._history_out(ctx, ref, entry, v, decrypt, param) for v in page]
        }
        if rest:
            result["NextToken"] = paging.encode("history", str(page[-1].version))
        return result

    def _history(self, ref: ParamRef, entry: Entry) -> Iterator[Version]:
        param = entry.param
        for version in self.repo.versions(param.account, param.region, param.name):
            yield param.current if version.version == param.current.version else version

    def _history_out(
        self,
        ctx: RequestContext,
        ref: ParamRef,
        entry: Entry,
        version: Version,
        decrypt: bool,
        param: Parameter,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Name": ref.requested,
            "Type": version.type,
            "LastModifiedDate": version.modified_at,
            "LastModifiedUser": version.user,
            "Value": self.value_of(ctx, entry, version, decrypt),
            "Version": version.version,
            "Tier": version.tier,
            "Policies": [dict(p) for p in version.policies],
            "DataType": version.data_type,
        }
        labels = param.labels_of(version.version)
        if labels:  # AWS leaves the member out rather than send an empty list
            out["Labels"] = labels
        for member, value in (
            ("KeyId", version.key_id),
            ("Description", version.description),
            ("AllowedPattern", version.allowed_pattern),
        ):
            if value is not None:
                out[member] = value
        return out
