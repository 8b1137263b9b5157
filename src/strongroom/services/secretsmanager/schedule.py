"""RotationRules: validation, and when the next rotation window opens.

AWS's rules (Secrets Manager User Guide, "Rotation schedules"):
- ``AutomaticallyAfterDays`` N, or ``ScheduleExpression`` ``rate(N hours|days)``
  or ``cron(...)``, never both.
- ``rate()`` windows start at midnight UTC; a rate in hours as often as every
  4 hours, its window closing after one hour by default; a rate in days (and
  AutomaticallyAfterDays) has a window closing at the end of the UTC day.
- ``Duration`` ("3h") sets the window length, 1 to 24 hours; a window must not
  run into the next window or into the next UTC day.
- NextRotationDate is the end of the next window ("on or before this date").
Pure: callers pass every time in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from strongroom.services.secretsmanager import errors
from strongroom.services.secretsmanager.cron import Cron, CronError, parse_cron

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_DURATION = re.compile(r"^(\d+)h$")
MIN_HOURS = 4
MAX_DAYS = 1000


@dataclass(frozen=True)
class Schedule:
    hours: int | None = None  # rate(N hours)
    days: int | None = None  # rate(N days) or AutomaticallyAfterDays
    cron: Cron | None = None
    duration: timedelta | None = None

    def _window_length(self, start: datetime) -> timedelta:
        if self.duration is not None:
            return self.duration
        if self.hours is not None or (self.cron is not None and self.cron.hourly):
            return timedelta(hours=1)
        midnight = datetime.combine(start.date() + timedelta(days=1), time(), tzinfo=UTC)
        return midnight - start

    def next_window(self, after: datetime) -> tuple[datetime, datetime]:
        """(start, end) of the first window to rotate in after a rotation at ``after``."""
        after = after.astimezone(UTC)
        if self.days is not None:
            day = after.date() + timedelta(days=self.days)
            start = datetime.combine(day, time(), tzinfo=UTC)
        elif self.hours is not None:
            target = (after + timedelta(hours=self.hours)).replace(
                minute=0, second=0, microsecond=0
            )
            start = datetime.combine(target.date(), time(), tzinfo=UTC)
            while start < target:
                start += timedelta(hours=self.hours)
                if start.date() != target.date():  # windows restart at midnight
                    start = datetime.combine(start.date(), time(), tzinfo=UTC)
                    break
        else:
            assert self.cron is not None
            found = self.cron.next_after(after)
            if found is None:
                raise errors.invalid_parameter("The schedule expression names no future time.")
            start = found
        end = start + self._window_length(start) - timedelta(seconds=1)
        return start, end


def _duration(value: object) -> timedelta | None:
    if value is None:
        return None
    match = _DURATION.match(str(value))
    if match is None or not 1 <= int(match[1]) <= 24:
        raise errors.invalid_parameter("The Duration must be between 1h and 24h.")
    return timedelta(hours=int(match[1]))


def parse_rules(rules: Mapping[str, Any]) -> tuple[Schedule, dict[str, Any]]:
    """Validate RotationRules; returns the schedule and the rules as DescribeSecret shows them."""
    days = rules.get("AutomaticallyAfterDays")
    expression = rules.get("ScheduleExpression")
    duration = _duration(rules.get("Duration"))
    if days is not None and expression is not None:
        raise errors.invalid_parameter(
            "You cannot specify both rotation frequency and schedule expression together."
        )
    shown: dict[str, Any] = {}
    if days is not None:
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
            raise errors.invalid_parameter(
                f"AutomaticallyAfterDays must be between 1 and {MAX_DAYS}."
            )
        schedule = Schedule(days=days, duration=duration)
        shown["AutomaticallyAfterDays"] = days
    elif expression is not None:
        text = str(expression).strip()
        rate = _RATE.match(text)
        cron_match = _CRON.match(text)
        if rate is not None:
            count, unit = int(rate[1]), rate[2]
            if unit.startswith("hour"):
                if not MIN_HOURS <= count <= 23:
                    raise errors.invalid_parameter(
                        "The rotation schedule rate in hours must be between 4 and 23."
                    )
                schedule = Schedule(hours=count, duration=duration)
                if duration is not None and duration >= timedelta(hours=count):
                    raise errors.invalid_parameter(
                        "The rotation window overlaps with the next rotation window."
                    )
            else:
                if not 1 <= count <= MAX_DAYS:
                    raise errors.invalid_parameter(
                        f"The rotation schedule rate in days must be between 1 and {MAX_DAYS}."
                    )
                schedule = Schedule(days=count, duration=duration)
                shown["AutomaticallyAfterDays"] = count
        elif cron_match is not None:
            try:
                cron = parse_cron(cron_match[1])
            except CronError as exc:
                raise errors.invalid_parameter(f"Invalid cron expression: {exc}.") from None
            schedule = Schedule(cron=cron, duration=duration)
        else:
            raise errors.invalid_parameter(
                "The ScheduleExpression must be a rate() or cron() expression."
            )
        shown["ScheduleExpression"] = text
    else:
        raise errors.invalid_parameter(
            "RotationRules must include AutomaticallyAfterDays or ScheduleExpression."
        )
    if duration is not None:
        shown["Duration"] = f"{int(duration.total_seconds() // 3600)}h"
        if schedule.cron is not None and not schedule.cron.hourly:
            hour = int(schedule.cron.hour_field)
            if hour + duration.total_seconds() / 3600 > 24:
                raise errors.invalid_parameter(
                    "The rotation window can't extend into the next UTC day."
                )
    return schedule, shown


def stored_schedule(shown: Mapping[str, Any]) -> Schedule:
    """The schedule of rules as DescribeSecret shows them (where a rate in days
    also appears as the AutomaticallyAfterDays it implies)."""
    rules = dict(shown)
    if "ScheduleExpression" in rules:
        rules.pop("AutomaticallyAfterDays", None)
    return parse_rules(rules)[0]
