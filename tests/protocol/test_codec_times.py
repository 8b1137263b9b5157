"""The event-time conversions the audit records use (strongroom.protocol.codec)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from strongroom.protocol.codec import iso_seconds, iso_seconds_and_us


def test_iso_seconds_and_us_for_each_datetime_even_when_one_repeats() -> None:
    first = datetime(2026, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC)
    second = first + timedelta(seconds=1, microseconds=1)
    elsewhere = datetime(2026, 5, 1, 14, 0, 7, tzinfo=timezone(timedelta(hours=2)))
    expected = {
        first: ("2026-05-01T12:00:00Z", 1_777_636_800_250_000),
        second: ("2026-05-01T12:00:01Z", 1_777_636_801_250_001),
        elsewhere: ("2026-05-01T12:00:07Z", 1_777_636_807_000_000),
    }
    # The same object twice in a row (the last answer is kept), then others.
    for value in (first, first, second, elsewhere, second, first):
        assert iso_seconds_and_us(value) == expected[value]
        assert iso_seconds(value) == expected[value][0]
    # An equal datetime that is another object gets the same answer.
    assert iso_seconds_and_us(first.replace()) == expected[first]
