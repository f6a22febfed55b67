"""Dates and time zones: front-matter dates, dates in file names, and period bounds for filters."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from .errors import UsageError

DEFAULT_TZ = dt.timezone(dt.timedelta(hours=8))

#: ``+08:00``, ``+0800``, ``+08``, ``+8``, ``UTC+8``; not ``+123`` (is it 1:23 or 12:3?)
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(?:(\d{2}):?(\d{2})|(\d{1,2}))$", re.IGNORECASE)


def parse_tz(value: str) -> dt.tzinfo:
    """A time zone from ``+08:00``, ``+0800``, ``-5``, ``UTC`` or an IANA name like
    ``Asia/Shanghai``. Raises ``UsageError`` for anything else."""
    value = value.strip()
    if value.upper() in ("UTC", "Z", "GMT"):
        return dt.UTC
    m = _OFFSET.match(value)
    if m:
        sign, hours, minutes = m.group(1), int(m.group(2) or m.group(4)), int(m.group(3) or 0)
        if hours > 23 or minutes > 59:
            raise UsageError(f"invalid time zone offset {value!r}")
        delta = dt.timedelta(hours=hours, minutes=minutes)
        return dt.timezone(-delta if sign == "-" else delta)
    try:
        return zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: with the tzdata package, a region name such as "Asia" is a folder in it
        raise UsageError(
            f"unknown time zone {value!r}: use an offset like +08:00 or a name like Asia/Shanghai"
        ) from None


_DATE = re.compile(
    r"^(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日)"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2}|[+-]\d{2})?$",
    re.IGNORECASE,
)


def parse_date(value: Any, tz: dt.tzinfo = DEFAULT_TZ) -> dt.datetime | None:
    """A timezone-aware datetime from a front-matter date, or None when there is no date in it.

    Accepts ``2022-04-09 14:22:44 +0800``, ``+08:00``, ``Z``, ``UTC``, ``T`` separators,
    fractions of a second (cut to microseconds), date-only values and ``2022年4月9日``; a value
    without offset is taken in ``tz``. Raises ``ValueError`` for text that is not a date.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=tz)
    text = str(value).strip()
    if not text or _OFFSET.match(text) or text.upper() in ("UTC", "Z"):
        return None  # e.g. "date:  +0800": an offset with no date
    m = _DATE.match(text)
    if not m:
        raise ValueError(f"unrecognised date {text!r}")
    year, month, day, month_zh, day_zh, hour, minute, second, frac, offset = m.groups()
    month, day = month or month_zh, day or day_zh
    if offset and hour is None and not text[m.start(10) - 1].isspace():
        raise ValueError(f"unrecognised date {text!r}")  # "2022-04-09-01" is no offset -01
    zone = tz
    if offset:
        try:
            zone = parse_tz(offset)
        except UsageError as exc:
            raise ValueError(str(exc)) from None
    micro = int((frac or "0").ljust(6, "0")[:6])
    return dt.datetime(
        int(year), int(month), int(day),
        int(hour or 0), int(minute or 0), int(second or 0), micro, tzinfo=zone,
    )  # fmt: skip


def format_date(value: dt.datetime | None) -> str | None:
    """ISO 8601 with offset, seconds precision: ``2022-04-09T14:22:44+08:00``.

    An offset with seconds (local mean time, e.g. Asia/Shanghai before 1901 is +08:05:43) is
    not ISO 8601: the same instant is then given with the offset in whole minutes.
    """
    if value is None:
        return None
    delta = value.utcoffset()
    if delta is not None and delta % dt.timedelta(minutes=1):
        minutes = round(delta / dt.timedelta(minutes=1))
        value = value.astimezone(dt.timezone(dt.timedelta(minutes=minutes)))
    return value.isoformat(timespec="seconds")


_NAME_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-")
_NAME_DIGITS = re.compile(r"(?<!\d)(\d{12,})(?!\d)")


def date_from_name(name: str, tz: dt.tzinfo = DEFAULT_TZ) -> dt.datetime | None:
    """The date in a post's file name: Jekyll's ``YYYY-MM-DD-`` prefix, or the ``YYYYMMDD`` that
    starts a long numeric article id (``-202205262391921712.md``). None when there is none."""
    candidates = []
    m = _NAME_DATE.match(name)
    if m:
        candidates.append(m.groups())
    for digits in _NAME_DIGITS.findall(name):
        candidates.append((digits[:4], digits[4:6], digits[6:8]))
    for year, month, day in candidates:
        try:
            day_ = dt.datetime(int(year), int(month), int(day), tzinfo=tz)
        except ValueError:
            continue
        if 1990 <= day_.year <= 2100:
            return day_
    return None


_PERIOD = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")

#: the local date-time format of ``posts.local_date`` and of naive ``--since``/``--until`` bounds
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"


def local_datetime(iso: str | None) -> str | None:
    """A stored ISO date's local date and time, ``YYYY-MM-DD HH:MM:SS``: the wall clock in the
    post's own offset, as ``show`` and ``list`` display it (``posts.local_date`` in SQL)."""
    return f"{iso[:10]} {iso[11:19]}" if iso else None


def local_as_utc(bound: str) -> int | None:
    """A local date-time bound (``LOCAL_FORMAT``) read as if it were UTC, in epoch seconds;
    None if it is not in that form. Any post at that local time is within a day of it."""
    try:
        return int(dt.datetime.strptime(bound, LOCAL_FORMAT).replace(tzinfo=dt.UTC).timestamp())
    except (ValueError, OverflowError):
        return None


def period_bound(value: str, *, end: bool) -> str | int:
    """A ``--since``/``--until`` bound: ``2022``, ``2022-04``, ``2022-04-09`` or a date-time.

    The rule (the same for filters, trends and display): a post's date is its local date and
    time as written in its own offset. A bound without an offset is such a local date-time,
    returned as ``YYYY-MM-DD HH:MM:SS``, so ``--since 2022-03-19`` selects the posts whose
    local date is the 19th or later, wherever they were written. A bound with an explicit
    offset or zone (``2022-04-09T06:22:44Z``) is an instant: epoch seconds, compared with each
    post's instant. ``end=True`` gives the first moment after the period, so ``--until 2022-04``
    includes all of April.
    """
    text = value.strip()
    m = _PERIOD.match(text)
    if m:
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
        try:
            start = dt.datetime(year, int(month or 1), int(day or 1))
            if end:
                if day:
                    start += dt.timedelta(days=1)
                elif month:
                    start = start.replace(year=year + int(month) // 12, month=int(month) % 12 + 1)
                else:
                    start = start.replace(year=year + 1)
        except (ValueError, OverflowError):  # no such day, or the end of year 9999
            raise UsageError(f"invalid date {value!r}") from None
        return start.strftime(LOCAL_FORMAT)
    try:
        moment = parse_date(text, dt.UTC)
    except (ValueError, UsageError):
        moment = None
    if moment is None:
        raise UsageError(
            f"invalid date {value!r}: use YYYY, YYYY-MM, YYYY-MM-DD or a date and time"
        )
    if _has_offset(text):
        return int(moment.timestamp()) + (1 if end else 0)
    if end:
        moment += dt.timedelta(seconds=1)
    return moment.strftime(LOCAL_FORMAT)


def _has_offset(text: str) -> bool:
    m = _DATE.match(text)
    return bool(m and m.group(10))


def check_range(since: str | int | None, until: str | int | None) -> None:
    """``UsageError`` when ``--since`` is after ``--until`` (the range would select nothing).
    Bounds of different kinds (a local date-time and an instant) are compared as if the local
    one were UTC, which only lets through ranges within a day of empty."""
    if since is None or until is None:
        return

    def seconds(bound: str | int) -> int:
        if isinstance(bound, int):
            return bound
        return int(dt.datetime.strptime(bound, LOCAL_FORMAT).replace(tzinfo=dt.UTC).timestamp())

    if seconds(since) >= seconds(until):
        raise UsageError("--since is after --until: the range selects nothing; swap them")
