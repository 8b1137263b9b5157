"""AWS CloudTrail, read side: event history and the account's default trail.

Every account has one trail, ``default``: multi-region, with log file
validation, always logging (the gateway records every request; see
docs/design/audit.md). It cannot be created, changed or deleted, so only
the reading operations are served. LookupEvents reads the caller's own
account and region, newest first, as CloudTrail's event history does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from strongroom.audit.digest_keys import DigestKeys
from strongroom.audit.files import TRAIL_NAME
from strongroom.audit.trail import AuditTrail
from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.services.base import Service
from strongroom.services.cloudtrail.lookup import build_query, encode_token, event_output

Params = dict[str, Any]
Result = dict[str, Any]


def _trail_arn(ctx: RequestContext) -> str:
    home = ctx.platform.settings.region
    return f"arn:aws:cloudtrail:{home}:{ctx.account_id}:trail/{TRAIL_NAME}"


def _trail(ctx: RequestContext) -> Result:
    return {
        "Name": TRAIL_NAME,
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": True,
        "HomeRegion": ctx.platform.settings.region,
        "TrailARN": _trail_arn(ctx),
        "LogFileValidationEnabled": True,
        "HasCustomEventSelectors": False,
        "HasInsightSelectors": False,
        "IsOrganizationTrail": False,
    }


def _not_found(name: str, ctx: RequestContext) -> ServiceError:
    return ServiceError(
        "TrailNotFoundException",
        f"Unknown trail: {name} for the user: {ctx.account_id}",
        400,
    )


def _resolve(ctx: RequestContext, name: str) -> None:
    """Accept the trail's name or ARN; anything else is not found."""
    if name.startswith("arn:"):
        if name != _trail_arn(ctx):
            parts = name.split(":")
            if len(parts) < 6 or parts[2] != "cloudtrail":
                raise ServiceError(
                    "CloudTrailARNInvalidException", f"Invalid trail ARN: {name}", 400
                )
            raise _not_found(name, ctx)
    elif name != TRAIL_NAME:
        raise _not_found(name, ctx)


class CloudTrailService(Service):
    model_name: ClassVar[str] = "cloudtrail"
    partial: ClassVar[dict[str, str]] = {
        "LookupEvents": "management events only; EventCategory insight returns no events",
        "GetTrailStatus": "the built-in trail is always logging; delivery times are not tracked",
    }

    def _audit(self) -> AuditTrail:
        trail = self.platform.audit
        if trail is None:
            raise ServiceError(
                "OperationNotPermittedException",
                "The audit trail is disabled on this server.",
                400,
            )
        return trail

    def lookup_events(self, ctx: RequestContext, params: Params) -> Result:
        ctx.authorize("cloudtrail:LookupEvents", "*")
        query = build_query(ctx.account_id, ctx.region, params)
        if params.get("EventCategory") == "insight":
            return {"Events": []}
        events = self._audit().lookup(query)
        result: Result = {"Events": [event_output(e) for e in events]}
        if len(events) == query.limit:
            result["NextToken"] = encode_token(query, events[-1])
        return result

    def describe_trails(self, ctx: RequestContext, params: Params) -> Result:
        ctx.authorize("cloudtrail:DescribeTrails", "*")
        names = params.get("trailNameList")
        if names:
            wanted = [n for n in names if n in (TRAIL_NAME, _trail_arn(ctx))]
            return {"trailList": [_trail(ctx)] if wanted else []}
        return {"trailList": [_trail(ctx)]}

    def list_trails(self, ctx: RequestContext, params: Params) -> Result:
        ctx.authorize("cloudtrail:ListTrails", "*")
        return {
            "Trails": [
                {
                    "TrailARN": _trail_arn(ctx),
                    "Name": TRAIL_NAME,
                    "HomeRegion": ctx.platform.settings.region,
                }
            ]
        }

    def get_trail(self, ctx: RequestContext, params: Params) -> Result:
        name = str(params["Name"])
        ctx.authorize("cloudtrail:GetTrail", _trail_arn(ctx))
        _resolve(ctx, name)
        return {"Trail": _trail(ctx)}

    def get_trail_status(self, ctx: RequestContext, params: Params) -> Result:
        name = str(params["Name"])
        ctx.authorize("cloudtrail:GetTrailStatus", _trail_arn(ctx))
        _resolve(ctx, name)
        self._audit()
        return {"IsLogging": True}

    def list_public_keys(self, ctx: RequestContext, params: Params) -> Result:
        """The account's digest signing key, for validating exported digests."""
        ctx.authorize("cloudtrail:ListPublicKeys", "*")
        start: datetime | None = params.get("StartTime")
        end: datetime | None = params.get("EndTime")
        if start is not None and end is not None and start > end:
            raise ServiceError(
                "InvalidTimeRangeException", "Start time must be before end time.", 400
            )
        public = DigestKeys(self.platform.store).public_key(ctx.account_id)
        if public is None:
            return {"PublicKeyList": []}
        created = datetime.strptime(public.created, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=ctx.now.tzinfo
        )
        return {
            "PublicKeyList": [
                {
                    "Value": public.der,
                    "ValidityStartTime": created,
                    "ValidityEndTime": created.replace(year=created.year + 100),
                    "Fingerprint": public.fingerprint,
                }
            ]
        }
