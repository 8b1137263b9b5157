"""Scalar conversions shared by the JSON and Query wire formats.

Timestamps and blobs are the only scalars whose wire form differs from the
Python value; keeping both directions here keeps the two protocols agreeing.
"""

from __future__ import annotations

import binascii
import math
import time
from datetime import UTC, datetime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_timestamp(value: object) -> datetime:
    """An aware UTC datetime from epoch seconds (number or numeric string) or ISO 8601.

    Raises ``ValueError`` for anything else, including out-of-range numbers.
    """
    if isinstance(value, bool):
        raise ValueError("boolean is not a timestamp")
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str) or not value:
        raise ValueError("not a timestamp")
    first = value[0]
    if first.isdigit() or first in "+-.":
        try:
            return _from_epoch(float(value))
        except ValueError:
            pass  # not a plain number: fall through to ISO 8601
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _from_epoch(seconds: float) -> datetime:
    if not math.isfinite(seconds):
        raise ValueError("timestamp is not finite")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError("timestamp out of range") from exc


def epoch_seconds(value: datetime) -> int | float:
    """Epoch seconds as the JSON protocols send them: whole seconds stay integers."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    if delta.microseconds == 0:
        return delta.days * 86400 + delta.seconds
    return round(delta.total_seconds(), 3)


def iso8601(value: datetime) -> str:
    """``2024-01-02T03:04:05Z`` (milliseconds only when present), as IAM and STS answer."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


_last_second: tuple[int, str] = (-1, "")


def iso_seconds(value: datetime) -> str:
    """``2024-05-01T12:00:00Z`` (UTC, whole seconds); callers in the same
    second share the string (audit records, condition keys: per request)."""
    return _second_text(int(value.timestamp()))


def iso_seconds_and_us(value: datetime) -> tuple[str, int]:
    """:func:`iso_seconds` and microseconds since the epoch, from one
    ``timestamp()`` (an audit record needs both). The last datetime's
    answer is kept: a request's records share its event time (a Secrets
    Manager read and its KMS call), and datetimes are immutable."""
    global _last_time
    last = _last_time
    if last[0] is value:
        return last[1], last[2]
    us = round(value.timestamp() * 1_000_000)
    text = _second_text(us // 1_000_000)
    _last_time = (value, text, us)
    return text, us


_last_time: tuple[datetime | None, str, int] = (None, "", 0)


def _second_text(second: int) -> str:
    global _last_second
    cached = _last_second
    if cached[0] == second:
        return cached[1]
    text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    _last_second = (second, text)
    return text


def timestamp_out(value: object) -> datetime | None:
    """Accept what a service may hand back for a timestamp member."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch(float(value))
    return None


def b64decode(value: str) -> bytes:
    """Strict standard base64 (padding required, no whitespace); ``ValueError`` otherwise."""
    try:
        return binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("invalid base64") from exc


def b64encode(value: bytes) -> str:
    return binascii.b2a_base64(value, newline=False).decode("ascii")
