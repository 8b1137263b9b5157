"""AWS ``cron()`` expressions (the EventBridge dialect Secrets Manager uses).

Six fields, all in UTC: minutes, hours, day-of-month, month, day-of-week,
year. One of day-of-month and day-of-week must be ``?``. Supported: ``*``,
lists, ranges, ``/`` steps, month and weekday names, ``L`` (last day of the
month, or ``5L`` the last Thursday), ``W`` (``15W`` the weekday nearest the
15th, ``LW`` the last weekday) and ``#`` (``2#1`` the first Monday).
Day-of-week numbers are AWS's: 1 is Sunday, 7 is Saturday. Pure: no clock.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}  # "JAN" -> 1
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_SEARCH_YEARS = 6


class CronError(ValueError):
    pass


def _number(token: str, low: int, high: int, names: dict[str, int] | None) -> int:
    upper = token.upper()
    if names is not None and upper in names:
        return names[upper]
    if not token.isdigit():
        raise CronError(f"invalid value {token!r}")
    value = int(token)
    if not low <= value <= high:
        raise CronError(f"value {value} out of range {low}-{high}")
    return value


def _values(field: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    out: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise CronError(f"invalid step {step_text!r}")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _number(a, low, high, names), _number(b, low, high, names)
        else:
            start = _number(part, low, high, names)
            end = high if step > 1 else start
        if start <= end:
            out.update(range(start, end + 1, step))
        else:  # a wrapping range such as FRI-MON
            out.update(v for v in list(range(start, high + 1)) + list(range(low, end + 1)))
    return frozenset(out)


def _aws_weekday(day: date) -> int:
    """1=Sunday … 7=Saturday."""
    return (day.weekday() + 1) % 7 + 1


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    dom: str
    dow: str
    hour_field: str

    @property
    def hourly(self) -> bool:
        """Whether the schedule recurs within a day (windows then default to 1 hour)."""
        return not self.hour_field.isdigit()

    def _dom_matches(self, day: date) -> bool:
        field = self.dom.upper()
        last = calendar.monthrange(day.year, day.month)[1]
        if field in ("?", "*"):
            return True
        if field == "L":
            return day.day == last
        if field == "LW":
            target = date(day.year, day.month, last)
            while target.weekday() >= 5:
                target -= timedelta(days=1)
            return day == target
        if field.endswith("W"):
            wanted = int(field[:-1])
            target = date(day.year, day.month, min(wanted, last))
            if target.weekday() == 5:  # Saturday -> Friday, unless that leaves the month
                target = target - timedelta(days=1) if target.day > 1 else target + timedelta(2)
            elif target.weekday() == 6:  # Sunday -> Monday, unless that leaves the month
                target = target + timedelta(days=1) if target.day < last else target - timedelta(2)
            return day == target
        return day.day in _values(field, 1, 31)

    def _dow_matches(self, day: date) -> bool:
        field = self.dow.upper()
        if field in ("?", "*"):
            return True
        weekday = _aws_weekday(day)
        if "#" in field:
            a, b = field.split("#", 1)
            nth = int(b)
            return weekday == _number(a, 1, 7, _DAYS) and (day.day - 1) // 7 + 1 == nth
        if field.endswith("L"):
            wanted = _number(field[:-1], 1, 7, _DAYS)
            last = calendar.monthrange(day.year, day.month)[1]
            return weekday == wanted and day.day + 7 > last
        return weekday in _values(field, 1, 7, _DAYS)

    def day_matches(self, day: date) -> bool:
        return (
            day.month in self.months
            and day.year in self.years
            and self._dom_matches(day)
            and self._dow_matches(day)
        )

    def next_after(self, moment: datetime) -> datetime | None:
        """The first time strictly after ``moment`` that the expression names."""
        moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
        day = moment.date()
        end = day + timedelta(days=366 * _SEARCH_YEARS)
        while day <= end:
            if self.day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
                        if candidate > moment:
                            return candidate
            day += timedelta(days=1)
        return None


def parse_cron(body: str) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise CronError("a cron expression has six fields")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise CronError("exactly one of day-of-month and day-of-week must be '?'")
    try:
        cron = Cron(
            minutes=_values(minutes, 0, 59),
            hours=_values(hours, 0, 23),
            months=_values(month, 1, 12, _MONTHS),
            years=_values(year, 1970, 2199),
            dom=dom,
            dow=dow,
            hour_field=hours,
        )
        # Validate the day fields once, on any date.
        probe = date(2024, 1, 1)
        cron._dom_matches(probe)
        cron._dow_matches(probe)
    except (ValueError, KeyError) as exc:
        raise CronError(str(exc)) from None
    return cron
