"""Rotation schedules: rate(), cron(), AutomaticallyAfterDays, Duration windows (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from strongroom.errors import ServiceError
from strongroom.services.secretsmanager.cron import CronError, parse_cron
from strongroom.services.secretsmanager.schedule import parse_rules


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_automatically_after_days_window_is_that_whole_day() -> None:
    schedule, shown = parse_rules({"AutomaticallyAfterDays": 30})
    assert shown == {"AutomaticallyAfterDays": 30}
    start, end = schedule.next_window(_at("2024-05-01T15:30:00"))
    assert start == _at("2024-05-31T00:00:00")
    assert end == _at("2024-05-31T23:59:59")


def test_rate_days_with_duration() -> None:
    schedule, shown = parse_rules({"ScheduleExpression": "rate(10 days)", "Duration": "3h"})
    assert shown == {
        "AutomaticallyAfterDays": 10,
        "ScheduleExpression": "rate(10 days)",
        "Duration": "3h",
    }
    start, end = schedule.next_window(_at("2024-05-01T15:30:00"))
    assert (start, end) == (_at("2024-05-11T00:00:00"), _at("2024-05-11T02:59:59"))


def test_rate_hours_windows_restart_at_midnight() -> None:
    schedule, _ = parse_rules({"ScheduleExpression": "rate(5 hours)"})
    # Windows at 00, 05, 10, 15, 20 each day; the next one at least 5 hours on.
    assert schedule.next_window(_at("2024-05-01T01:10:00"))[0] == _at("2024-05-01T10:00:00")
    start, end = schedule.next_window(_at("2024-05-01T18:00:00"))
    assert start == _at("2024-05-02T00:00:00")
    assert end == _at("2024-05-02T00:59:59")


def test_cron_expressions() -> None:
    schedule, shown = parse_rules({"ScheduleExpression": "cron(0 16 1,15 * ? *)", "Duration": "2h"})
    assert shown["ScheduleExpression"] == "cron(0 16 1,15 * ? *)"
    assert schedule.next_window(_at("2024-05-01T17:00:00")) == (
        _at("2024-05-15T16:00:00"),
        _at("2024-05-15T17:59:59"),
    )
    # The first Sunday of each month (1 = SUN).
    first_sunday, _ = parse_rules({"ScheduleExpression": "cron(0 4 ? * 1#1 *)"})
    assert first_sunday.next_window(_at("2024-05-01T00:00:00"))[0] == _at("2024-05-05T04:00:00")
    # The last day of the month; a day schedule's window ends with the day.
    last_day, _ = parse_rules({"ScheduleExpression": "cron(0 8 L * ? *)"})
    start, end = last_day.next_window(_at("2024-02-10T00:00:00"))
    assert (start, end) == (_at("2024-02-29T08:00:00"), _at("2024-02-29T23:59:59"))
    # Every 6 hours on weekdays: windows of one hour.
    hourly, _ = parse_rules({"ScheduleExpression": "cron(0 */6 ? * MON-FRI *)"})
    start, end = hourly.next_window(_at("2024-05-04T10:00:00"))  # a Saturday
    assert (start, end) == (_at("2024-05-06T00:00:00"), _at("2024-05-06T00:59:59"))
    # The weekday nearest the 1st of June 2024 (a Saturday) is Monday the 3rd.
    nearest, _ = parse_rules({"ScheduleExpression": "cron(0 0 1W * ? *)"})
    assert nearest.next_window(_at("2024-05-20T00:00:00"))[0] == _at("2024-06-03T00:00:00")


@pytest.mark.parametrize(
    "rules",
    [
        {"AutomaticallyAfterDays": 5, "ScheduleExpression": "rate(5 days)"},
        {"AutomaticallyAfterDays": 0},
        {"AutomaticallyAfterDays": 1001},
        {"ScheduleExpression": "rate(3 hours)"},
        {"ScheduleExpression": "rate(4 hours)", "Duration": "4h"},
        {"ScheduleExpression": "rate(1 week)"},
        {"ScheduleExpression": "cron(0 22 * * ? *)", "Duration": "3h"},
        {"ScheduleExpression": "cron(0 0 * * * *)"},
        {"ScheduleExpression": "cron(0 0 ? * * *"},
        {"ScheduleExpression": "rate(1 days)", "Duration": "25h"},
        {},
    ],
)
def test_invalid_rules(rules: dict[str, object]) -> None:
    with pytest.raises(ServiceError) as info:
        parse_rules(rules)
    assert info.value.code == "InvalidParameterException"


def test_cron_parser_rejects_garbage() -> None:
    for body in ("61 * * * ? *", "0 0 32 * ? *", "0 0 ? * 8 *", "0 0 ? * X *", "a b c d e f"):
        with pytest.raises(CronError):
            parse_cron(body)
