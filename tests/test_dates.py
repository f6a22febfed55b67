"""Tests for ``newsarc.dates``: time zones, front-matter dates, file-name dates, period bounds."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsarc.dates import (
    DEFAULT_TZ,
    check_range,
    date_from_name,
    format_date,
    local_datetime,
    parse_date,
    parse_tz,
    period_bound,
)
from newsarc.errors import UsageError

CST = dt.timezone(dt.timedelta(hours=8))
EST = dt.timezone(dt.timedelta(hours=-5))
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def offset(hours: int, minutes: int = 0) -> dt.timedelta:
    sign = -1 if hours < 0 else 1
    return dt.timedelta(hours=hours, minutes=sign * minutes)


# -- parse_tz -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "delta"),
    [
        ("+08:00", offset(8)),
        ("+0800", offset(8)),
        ("+08", offset(8)),
        ("+8", offset(8)),
        ("-05:30", offset(-5, 30)),
        ("-0530", offset(-5, 30)),
        ("-5", offset(-5)),
        ("UTC+8", offset(8)),
        ("GMT-3", offset(-3)),
        (" +09:00 ", offset(9)),
        ("+23:59", offset(23, 59)),
        ("UTC", offset(0)),
        ("utc", offset(0)),
        ("Z", offset(0)),
        ("GMT", offset(0)),
    ],
)
def test_parse_tz_offsets(value, delta):
    assert parse_tz(value).utcoffset(None) == delta


def test_parse_tz_utc_is_utc():
    assert parse_tz("UTC") is dt.UTC


def test_parse_tz_iana_name():
    zone = parse_tz("Asia/Shanghai")
    assert zone == SHANGHAI
    assert dt.datetime(2022, 4, 9, tzinfo=zone).utcoffset() == offset(8)


def test_parse_tz_iana_name_with_daylight_saving():
    zone = parse_tz("Europe/Berlin")
    assert dt.datetime(2022, 1, 9, tzinfo=zone).utcoffset() == offset(1)
    assert dt.datetime(2022, 7, 9, tzinfo=zone).utcoffset() == offset(2)


@pytest.mark.parametrize(
    "value",
    ["+24:00", "+0860", "+123", "+12345", "Mars/Olympus", "", "Asia", "/etc/passwd", "../x",
     "\x00", "08:00", "+8:00"],
)  # fmt: skip
def test_parse_tz_invalid(value):
    with pytest.raises(UsageError):
        parse_tz(value)


def test_parse_tz_error_says_how_to_fix():
    with pytest.raises(
        UsageError, match=r"use an offset like \+08:00 or a name like Asia/Shanghai"
    ):
        parse_tz("Beijing")


# -- parse_date -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-04-09 14:22:44 +0800", dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=CST)),
        ("2022-04-09 14:22:44 +08:00", dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=CST)),
        ("2022-04-09 14:22:44+0800", dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=CST)),
        ("2022-04-09T14:22:44+08:00", dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=CST)),
        ("2022-04-09 14:22:44 +08", dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=CST)),
        ("2022-04-09T06:22:44Z", dt.datetime(2022, 4, 9, 6, 22, 44, tzinfo=dt.UTC)),
        ("2022-04-09T06:22:44z", dt.datetime(2022, 4, 9, 6, 22, 44, tzinfo=dt.UTC)),
        ("2022-04-09 06:22:44 UTC", dt.datetime(2022, 4, 9, 6, 22, 44, tzinfo=dt.UTC)),
        ("2022-04-09 01:22:44 -0500", dt.datetime(2022, 4, 9, 1, 22, 44, tzinfo=EST)),
        ("2022-04-09 14:22", dt.datetime(2022, 4, 9, 14, 22, tzinfo=CST)),
        ("2022-04-09 14:22:44", dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=CST)),
        ("2022-04-09", dt.datetime(2022, 4, 9, tzinfo=CST)),
        ("2022-04-09 +0800", dt.datetime(2022, 4, 9, tzinfo=CST)),
        ("2022-04-09 -01", dt.datetime(2022, 4, 9, tzinfo=dt.timezone(offset(-1)))),
        ("2022/4/9 9:05", dt.datetime(2022, 4, 9, 9, 5, tzinfo=CST)),
        ("2022.04.09", dt.datetime(2022, 4, 9, tzinfo=CST)),
        ("2022年4月9日", dt.datetime(2022, 4, 9, tzinfo=CST)),
        ("2022年04月09日 14:22", dt.datetime(2022, 4, 9, 14, 22, tzinfo=CST)),
        ("  2022-04-09 14:22:44 +0800  ", dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=CST)),
        ("2022-04-09 14:22:44.5 +0800", dt.datetime(2022, 4, 9, 14, 22, 44, 500000, tzinfo=CST)),
        ("2022-04-09 14:22:44.1234567", dt.datetime(2022, 4, 9, 14, 22, 44, 123456, tzinfo=CST)),
    ],
)  # fmt: skip
def test_parse_date_formats(value, expected):
    parsed = parse_date(value)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("value", [None, "", "  ", "+0800", "+08:00", "-0500", "UTC", "Z"])
def test_parse_date_no_date(value):
    assert parse_date(value) is None


@pytest.mark.parametrize(
    "value",
    ["明天", "2022-02-30", "2022-13-01", "2022-04-09 25:00", "2022-04-09 14:61",
     "2022-04-09 14:22:44 +2500", "2022-04-09 14:22:44 +123", "20220409", "04/09/2022",
     "2022-04-09 14:22:44 CST", "[2022]", "0000-01-01", "2022-04-09-01", True, 20220409],
)  # fmt: skip
def test_parse_date_invalid(value):
    with pytest.raises(ValueError):
        parse_date(value)


def test_parse_date_naive_takes_tz():
    assert parse_date("2022-04-09 14:22:44", dt.UTC) == dt.datetime(
        2022, 4, 9, 14, 22, 44, tzinfo=dt.UTC
    )
    in_shanghai = parse_date("2022-04-09 14:22:44", SHANGHAI)
    assert in_shanghai.tzinfo is SHANGHAI
    assert in_shanghai.isoformat() == "2022-04-09T14:22:44+08:00"


def test_parse_date_explicit_offset_wins_over_tz():
    assert parse_date("2022-04-09 14:22:44 +0800", dt.UTC).utcoffset() == offset(8)


def test_parse_date_default_tz_is_plus_eight():
    assert DEFAULT_TZ.utcoffset(None) == offset(8)
    assert parse_date("2022-04-09").tzinfo is DEFAULT_TZ


def test_parse_date_datetime_and_date_values():
    aware = dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=dt.UTC)
    assert parse_date(aware) is aware
    assert parse_date(dt.datetime(2022, 4, 9, 14, 22, 44), dt.UTC) == aware
    assert parse_date(dt.date(2022, 4, 9)) == dt.datetime(2022, 4, 9, tzinfo=CST)


# -- format_date ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None),
        (dt.datetime(2022, 4, 9, 14, 22, 44, tzinfo=CST), "2022-04-09T14:22:44+08:00"),
        (dt.datetime(2022, 4, 9, 14, 22, 44, 999999, tzinfo=CST), "2022-04-09T14:22:44+08:00"),
        (dt.datetime(2022, 4, 9, tzinfo=dt.UTC), "2022-04-09T00:00:00+00:00"),
        (dt.datetime(2022, 4, 9, tzinfo=SHANGHAI), "2022-04-09T00:00:00+08:00"),
        (dt.datetime(2022, 4, 9, tzinfo=dt.timezone(offset(-5, 30))), "2022-04-09T00:00:00-05:30"),
    ],
)
def test_format_date(value, text):
    assert format_date(value) == text


AWARE = st.datetimes(
    min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9998, 12, 31),
    timezones=st.sampled_from([CST, dt.UTC, dt.timezone(offset(-5, 30)), SHANGHAI]),
).map(lambda d: d.replace(microsecond=0))  # fmt: skip


@given(AWARE)
def test_format_date_property_round_trip(value):
    parsed = parse_date(format_date(value))
    assert parsed == value  # the same instant
    if value.utcoffset() % dt.timedelta(minutes=1) == dt.timedelta(0):
        assert parsed.utcoffset() == value.utcoffset()


def test_format_date_offset_with_seconds():
    """Asia/Shanghai before 1901 is local mean time, +08:05:43: ISO 8601 has no seconds there."""
    value = dt.datetime(1900, 1, 1, tzinfo=SHANGHAI)
    assert value.utcoffset() == dt.timedelta(hours=8, minutes=5, seconds=43)
    assert format_date(value) == "1900-01-01T00:00:17+08:06"
    assert parse_date(format_date(value)) == value


# -- date_from_name -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2021-12-08-202112082206672930.md", dt.date(2021, 12, 8)),
        ("2021-12-01-init.md", dt.date(2021, 12, 1)),
        ("-202205262391921712.md", dt.date(2022, 5, 26)),
        ("NW202204092337358965.txt", dt.date(2022, 4, 9)),
        ("2021-12-08-202112082206672930@cfbae483017a.md", dt.date(2021, 12, 8)),
        ("2022-02-30-202204092337358965.md", dt.date(2022, 4, 9)),  # bad prefix: the id's date
        ("000_da33c2ea1906ec2c.txt", None),
        ("notice.md", None),
        ("2022-04-09.md", None),  # Jekyll's prefix ends with a dash
        ("1649485364000.md", None),  # epoch milliseconds are no date
        ("123456789012.md", None),  # year 1234
        ("202213012345678901.md", None),  # month 13
    ],
)
def test_date_from_name(name, expected):
    found = date_from_name(name)
    if expected is None:
        assert found is None
    else:
        assert found == dt.datetime(expected.year, expected.month, expected.day, tzinfo=CST)


def test_date_from_name_uses_tz():
    assert date_from_name("2022-04-09-x.md", dt.UTC) == dt.datetime(2022, 4, 9, tzinfo=dt.UTC)
    assert date_from_name("2022-04-09-x.md", SHANGHAI).tzinfo is SHANGHAI


# -- period_bound ---------------------------------------------------------------------------------


def epoch(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
    tz: dt.tzinfo = CST,
) -> int:  # fmt: skip
    return int(dt.datetime(year, month, day, hour, minute, second, tzinfo=tz).timestamp())


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2022", "2022-01-01 00:00:00", "2023-01-01 00:00:00"),
        ("2022-04", "2022-04-01 00:00:00", "2022-05-01 00:00:00"),
        ("2022-4", "2022-04-01 00:00:00", "2022-05-01 00:00:00"),
        ("2022-11", "2022-11-01 00:00:00", "2022-12-01 00:00:00"),
        ("2022-12", "2022-12-01 00:00:00", "2023-01-01 00:00:00"),
        ("2022-04-09", "2022-04-09 00:00:00", "2022-04-10 00:00:00"),
        ("2022-04-30", "2022-04-30 00:00:00", "2022-05-01 00:00:00"),
        ("2022-12-31", "2022-12-31 00:00:00", "2023-01-01 00:00:00"),
        ("2024-02-29", "2024-02-29 00:00:00", "2024-03-01 00:00:00"),
        (" 2022-04 ", "2022-04-01 00:00:00", "2022-05-01 00:00:00"),
        ("2022-04-09 14:22:44", "2022-04-09 14:22:44", "2022-04-09 14:22:45"),
        ("2022-04-09 23:59:59", "2022-04-09 23:59:59", "2022-04-10 00:00:00"),
    ],
)
def test_period_bound_is_a_local_date_time(value, start, end):
    # no offset given: the bound is compared with each post's date as written in its own offset
    assert period_bound(value, end=False) == start
    assert period_bound(value, end=True) == end


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2022-04-09T06:22:44Z", epoch(2022, 4, 9, 14, 22, 44), epoch(2022, 4, 9, 14, 22, 45)),
        ("2022-04-09 14:22:44 +08:00", epoch(2022, 4, 9, 14, 22, 44), epoch(2022, 4, 9, 14, 22, 45)),
        ("2022-04-09 00:00 -05:00", epoch(2022, 4, 9, 5, 0, tz=dt.UTC), epoch(2022, 4, 9, 5, 0, 1, tz=dt.UTC)),
    ],
)  # fmt: skip
def test_period_bound_with_an_offset_is_an_instant(value, start, end):
    assert period_bound(value, end=False) == start
    assert period_bound(value, end=True) == end


def test_local_datetime_matches_the_stored_column():
    assert local_datetime("2022-03-18T23:30:00+05:30") == "2022-03-18 23:30:00"
    assert local_datetime(None) is None


@pytest.mark.parametrize(
    ("since", "until"),
    [("2022-05", "2022-04"), ("2022-04-09 12:00", "2022-04-09 11:00"),
     ("2023", "2022-12-31 23:59:59 +00:00")],
)  # fmt: skip
def test_check_range_inverted(since, until):
    with pytest.raises(UsageError, match="--since is after --until"):
        check_range(period_bound(since, end=False), period_bound(until, end=True))


def test_check_range_accepts_one_period_and_open_ends():
    check_range(period_bound("2022-04", end=False), period_bound("2022-04", end=True))
    check_range(
        period_bound("2022-04-09 12:00", end=False), period_bound("2022-04-09 12:00", end=True)
    )
    check_range(None, period_bound("2022", end=True))
    check_range(period_bound("2022", end=False), None)


@pytest.mark.parametrize(
    "value",
    ["2022-13", "2022-00", "2022-02-30", "2023-02-29", "0000", "abc", "", "22-04", "2022-04-09-01",
     "+0800", "2022-04-09 25:00"],
)  # fmt: skip
def test_period_bound_invalid(value):
    with pytest.raises(UsageError, match="invalid date"):
        period_bound(value, end=False)
    with pytest.raises(UsageError, match="invalid date"):
        period_bound(value, end=True)


@pytest.mark.parametrize("value", ["9999", "9999-12", "9999-12-31"])
def test_period_bound_end_of_calendar(value):
    assert period_bound(value, end=False).startswith("9999-")
    with pytest.raises(UsageError):
        period_bound(value, end=True)


@given(st.dates(min_value=dt.date(1971, 1, 1), max_value=dt.date(9998, 12, 30)))
def test_period_bound_property_a_day_runs_to_the_next_local_midnight(day):
    text = day.isoformat()
    assert period_bound(text, end=False) == f"{text} 00:00:00"
    assert period_bound(text, end=True) == f"{(day + dt.timedelta(days=1)).isoformat()} 00:00:00"
