"""PutEvents and TestEventPattern."""

from __future__ import annotations

import json
from typing import Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.events.bus import event_bus
from strongroom.events.pattern import matches
from strongroom.events.routing import RoutingBus
from strongroom.services.events import errors
from strongroom.services.events.common import EventsBase, bus_arn, bus_name, pattern_of

# Fields TestEventPattern requires of its event (EventBridge rejects others).
_REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


def _entry_error(code: str, message: str) -> dict[str, str]:
    return {"ErrorCode": code, "ErrorMessage": message}


class EventOperations(EventsBase):
    def put_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account = ctx.principal.account_id
        results: list[dict[str, Any]] = []
        authorized: set[str] = set()
        for entry in params["Entries"]:
            try:
                bus = bus_name(ctx, entry.get("EventBusName"))
            except ServiceError:
                results.append(
                    _entry_error("InvalidArgument", "Parameter EventBusName is not valid.")
                )
                continue
            if bus not in authorized:
                # Authorization failure is the whole request's, as in EventBridge.
                ctx.authorize("events:PutEvents", bus_arn(ctx, bus))
                authorized.add(bus)
            results.append(self._put_one(ctx, account, entry))
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedEntryCount": failed, "Entries": results}

    def _put_one(self, ctx: RequestContext, account: str, entry: dict[str, Any]) -> dict[str, Any]:
        for member in ("Source", "DetailType", "Detail"):
            if not entry.get(member):
                return _entry_error("InvalidArgument", f"Parameter {member} is not valid.")
        source = str(entry["Source"])
        if source.startswith("aws."):
            return _entry_error(
                "NotAuthorizedForSourceException",
                "Not authorized for the source.",
            )
        try:
            detail = json.loads(str(entry["Detail"]))
        except (ValueError, RecursionError):
            detail = None
        if not isinstance(detail, dict):
            return _entry_error("MalformedDetail", "Detail is malformed.")
        bus = event_bus(self.platform)
        resources = [str(r) for r in entry.get("Resources") or []]
        if isinstance(bus, RoutingBus):
            event = bus.record(
                account,
                ctx.region,
                source,
                str(entry["DetailType"]),
                detail,
                resources,
                event_time=entry.get("Time") or ctx.now,
            )
            bus.route(event)
            return {"EventId": str(event["id"])}
        event_id = bus.publish(
            account, ctx.region, source, str(entry["DetailType"]), detail, resources
        )
        return {"EventId": event_id}

    def test_event_pattern(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ctx.authorize("events:TestEventPattern", "*")
        pattern = pattern_of(params["EventPattern"])
        try:
            event = json.loads(str(params["Event"]))
        except (ValueError, RecursionError):
            event = None
        if not isinstance(event, dict) or any(f not in event for f in _REQUIRED_EVENT_FIELDS):
            raise errors.validation("Parameter Event is not valid.")
        return {"Result": matches(pattern, event)}
