"""Recurrence rules: built from form choices, validated, expanded in local wall-clock time."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meetings.series import recurrence
from meetings.series.recurrence import MONTHLY, WEEKLY, InvalidRule, Repeat


def local(*args: int) -> datetime:
    return datetime(*args)


def test_weekly_on_tuesday_and_thursday_builds_byday():
    rule = recurrence.build_rrule(Repeat(WEEKLY, weekdays=(3, 1)), local(2026, 3, 3, 9, 0))
    assert rule == "FREQ=WEEKLY;BYDAY=TU,TH"


def test_every_two_weeks_builds_interval_with_week_start():
    rule = recurrence.build_rrule(Repeat(WEEKLY, interval=2, weekdays=(0,)), local(2026, 3, 2, 9))
    assert rule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;WKST=MO"


def test_monthly_on_first_monday_with_count():
    rule = recurrence.build_rrule(
        Repeat(MONTHLY, ordinal=1, weekday=0, count=6), local(2026, 3, 2, 9)
    )
    assert rule == "FREQ=MONTHLY;BYDAY=1MO;COUNT=6"
    found = recurrence.occurrences(
        rule,
        local(2026, 3, 2, 9),
        "Europe/Berlin",
        after=datetime(2026, 1, 1, tzinfo=UTC),
        until=datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert [lo.date() for lo, _ in found] == [
        date(2026, 3, 2),
        date(2026, 4, 6),
        date(2026, 5, 4),
        date(2026, 6, 1),
        date(2026, 7, 6),
        date(2026, 8, 3),
    ]


def test_monthly_on_last_friday():
    rule = recurrence.build_rrule(Repeat(MONTHLY, ordinal=-1, weekday=4), local(2026, 3, 27, 16))
    assert rule == "FREQ=MONTHLY;BYDAY=-1FR"
    assert recurrence.describe(rule, local(2026, 3, 27, 16)) == (
        "Monthly on the last Friday at 16:00"
    )


def test_until_is_a_local_floating_time_and_includes_that_day():
    rule = recurrence.build_rrule(
        Repeat(WEEKLY, weekdays=(1,), until=date(2026, 3, 17)), local(2026, 3, 3, 9)
    )
    assert rule == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260317T235959"
    found = recurrence.occurrences(
        rule,
        local(2026, 3, 3, 9),
        "UTC",
        after=datetime(2026, 1, 1, tzinfo=UTC),
        until=datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert [lo.day for lo, _ in found] == [3, 10, 17]


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        # US DST starts 8 March 2026: 09:00 EST is 14:00 UTC, 09:00 EDT is 13:00 UTC.
        ("America/New_York", time(14, 0), time(13, 0)),
        # EU DST starts 29 March 2026: 09:00 CET is 08:00 UTC, CEST 07:00 UTC.
        ("Europe/Berlin", time(8, 0), time(7, 0)),
        # Lord Howe leaves its half-hour DST on 5 April 2026: +11:00 -> +10:30.
        ("Australia/Lord_Howe", time(22, 0), time(22, 30)),
    ],
)
def test_weekly_nine_oclock_stays_nine_local_across_dst(zone, before, after):
    first = local(2026, 2, 24, 9, 0)  # a Tuesday
    found = recurrence.occurrences(
        "FREQ=WEEKLY;BYDAY=TU",
        first,
        zone,
        after=datetime(2026, 2, 1, tzinfo=UTC),
        until=datetime(2026, 4, 30, tzinfo=UTC),
    )
    tz = zoneinfo.ZoneInfo(zone)
    assert len(found) == 10
    assert all(moment.astimezone(tz).time() == time(9, 0) for _, moment in found)
    utc_times = [moment.time() for _, moment in found]
    assert utc_times[0] == before
    assert utc_times[-1] == after


def test_skipped_local_time_moves_forward_by_the_gap():
    # 02:30 does not exist in Berlin on 29 March 2026.
    moment = recurrence.to_utc(local(2026, 3, 29, 2, 30), zoneinfo.ZoneInfo("Europe/Berlin"))
    assert moment.astimezone(zoneinfo.ZoneInfo("Europe/Berlin")).time() == time(3, 30)


def test_window_bounds_are_exclusive_then_inclusive():
    first = local(2026, 3, 3, 9)
    start = datetime(2026, 3, 3, 9, tzinfo=UTC)
    found = recurrence.occurrences(
        "FREQ=WEEKLY;BYDAY=TU", first, "UTC", after=start, until=start + timedelta(days=7)
    )
    assert [m for _, m in found] == [start + timedelta(days=7)]
    found = recurrence.occurrences(
        "FREQ=WEEKLY;BYDAY=TU",
        first,
        "UTC",
        after=start,
        until=start + timedelta(days=7),
        inclusive=True,
    )
    assert [m for _, m in found] == [start, start + timedelta(days=7)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "needs a recurrence rule"),
        ("FREQ=MINUTELY", "daily, weekly, monthly or yearly"),
        ("FREQ=WEEKLY;BYDAY=XX", "cannot be read"),
        ("FREQ=WEEKLY;UNTIL=20260101T000000Z", "local time"),
        ("FREQ=WEEKLY;COUNT=100000", "at most"),
        ("FREQ=WEEKLY;UNTIL=20200101T000000", "never produces"),
        ("FREQ=WEEKLY;COUNT=x", "whole number"),
        ("FREQ=WEEKLY;COUNT=²", "whole number"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(text, message):
    with pytest.raises(InvalidRule, match=message):
        recurrence.parse(text, local(2026, 3, 3, 9))


def test_both_end_date_and_count_is_refused():
    with pytest.raises(InvalidRule, match="not both"):
        recurrence.build_rrule(
            Repeat(WEEKLY, weekdays=(1,), until=date(2026, 5, 1), count=3), local(2026, 3, 3, 9)
        )


def test_end_date_before_first_meeting_is_refused():
    with pytest.raises(InvalidRule, match="before the first meeting"):
        recurrence.build_rrule(
            Repeat(WEEKLY, weekdays=(1,), until=date(2026, 3, 1)), local(2026, 3, 3, 9)
        )


def test_end_before_cuts_the_rule_at_the_previous_occurrence():
    first = local(2026, 3, 3, 9)
    cut = recurrence.end_before("FREQ=WEEKLY;BYDAY=TU;COUNT=10", first, local(2026, 3, 17, 9))
    assert cut == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260310T090000"
    assert recurrence.occurrences_before("FREQ=WEEKLY;BYDAY=TU", first, local(2026, 3, 17, 9)) == 2


def test_describe_reads_like_the_form():
    first = local(2026, 3, 3, 9)
    assert recurrence.describe("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=MO;COUNT=4", first) == (
        "Every 2 weeks on Tue and Thu at 09:00, 4 times"
    )
    assert recurrence.describe("FREQ=WEEKLY;BYDAY=TU;UNTIL=20260317T235959", first) == (
        "Weekly on Tue at 09:00, until Tue 17 Mar 2026"
    )


ZONES = sorted(
    z
    for z in zoneinfo.available_timezones()
    if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))
)


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2034, 12, 31)),
    hour=st.integers(min_value=9, max_value=17),
    minute=st.sampled_from([0, 15, 30, 45]),
)
def test_weekly_meetings_keep_their_local_time_in_every_zone(zone, day, hour, minute):
    first = datetime.combine(day, time(hour, minute))
    tz = zoneinfo.ZoneInfo(zone)
    start = first.replace(tzinfo=tz)
    found = recurrence.occurrences(
        "FREQ=WEEKLY",
        first,
        zone,
        after=start - timedelta(days=1),
        until=start + timedelta(days=370),
    )
    assert len(found) in (53, 54)
    local_days = [moment.astimezone(tz).date() for _, moment in found]
    assert all(moment.astimezone(tz).time() == time(hour, minute) for _, moment in found)
    assert all((b - a).days == 7 for a, b in zip(local_days, local_days[1:], strict=False))
