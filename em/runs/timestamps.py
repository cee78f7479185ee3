"""ISO 8601 times from bundles as float seconds since the epoch — one at a time, or a million at once.

`parse_timestamp` is the definition: `datetime.fromisoformat`, and a time without an offset is UTC (the
server's own zone would make indexing depend on where it runs). `parse_timestamps` gives the very same
floats for a column of texts: the layout the SDK writes (`2026-03-01T10:15:19.008778+08:00`) is
decoded with NumPy integer arithmetic — exact microseconds, then one division, as `timestamp()` does —
and every other text goes through `parse_timestamp`.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

_CANONICAL = len("2026-03-01T10:15:19.008778+08:00")
_SEPARATORS = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":", 19: ".", 29: ":"}
_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22, 23, 24, 25, 27, 28, 30, 31]
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def parse_timestamp(value: Any) -> float:
    """Seconds since the epoch of a YAML timestamp or ISO 8601 text; NaN when there is none.

    Raises ValueError with a message fit for people when the value is not a time.
    """
    if value is None:
        return math.nan
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            shown = value if len(value) <= 40 else value[:37] + "..."
            raise ValueError(f"`sequence.timestamp` is not an ISO 8601 time: {shown!r}") from None
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).timestamp()
    shown = value.isoformat() if isinstance(value, date) else type(value).__name__
    raise ValueError(f"`sequence.timestamp` must be a date and time, not {shown}")


def parse_timestamps(texts: list[bytes]) -> tuple[np.ndarray, tuple[int, str] | None]:
    """The floats `parse_timestamp` gives for each text, and the first failure as (index, message)."""
    result = np.empty(len(texts), dtype=np.float64)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    fast = np.flatnonzero(lengths == _CANONICAL)
    if len(fast):
        seconds, ok = _decode_canonical(np.array([texts[i] for i in fast], dtype=f"S{_CANONICAL}"))
        result[fast[ok]] = seconds[ok]
        slow = np.sort(np.concatenate((np.flatnonzero(lengths != _CANONICAL), fast[~ok])))
    else:
        slow = np.arange(len(texts))
    for index in slow:
        try:
            result[index] = parse_timestamp(texts[index].decode("ascii"))
        except (ValueError, UnicodeDecodeError) as exc:
            return result, (int(index), str(exc))
    return result, None


def _decode_canonical(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seconds for `YYYY-MM-DDTHH:MM:SS.ffffff±HH:MM` texts, and which texts were exactly valid."""
    raw = np.frombuffer(texts.tobytes(), dtype=np.uint8).reshape(len(texts), _CANONICAL)
    ok = np.ones(len(texts), dtype=bool)
    for at, char in _SEPARATORS.items():
        ok &= raw[:, at] == ord(char)
    sign = raw[:, 26]
    ok &= (sign == ord("+")) | (sign == ord("-"))
    for at in _DIGITS:
        ok &= (raw[:, at] >= ord("0")) & (raw[:, at] <= ord("9"))

    def number(first: int, count: int) -> np.ndarray:
        total = np.zeros(len(texts), dtype=np.int64)
        for at in range(first, first + count):
            total = total * 10 + (raw[:, at].astype(np.int64) - ord("0"))
        return total

    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    hour, minute, second, micro = number(11, 2), number(14, 2), number(17, 2), number(20, 6)
    offset_hour, offset_minute = number(27, 2), number(30, 2)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_ok = (month >= 1) & (month <= 12)
    last_day = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    ok &= (year >= 1) & month_ok & (day >= 1) & (day <= last_day)
    ok &= (hour < 24) & (minute < 60) & (second < 60) & (offset_hour < 24) & (offset_minute < 60)
    # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    y = year - (month <= 2)
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146097 + day_of_era - 719468
    offset = np.where(sign == ord("-"), -1, 1) * (offset_hour * 3600 + offset_minute * 60)
    micros = (days * 86400 + hour * 3600 + minute * 60 + second - offset) * 1_000_000 + micro
    # Exact as a float64 only up to 2**53 µs (years 1685-2255); beyond, `parse_timestamp` decides.
    ok &= np.abs(micros) <= 2**53
    return micros / 1e6, ok
