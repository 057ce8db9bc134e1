"""The business-hours clock across weekends, holidays, time zones and DST changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadrefinery.sla.business_hours import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
    is_working_time,
)

NY = BusinessCalendar(time_zone="America/New_York")
BERLIN = BusinessCalendar(
    time_zone="Europe/Berlin", holidays=frozenset({date(2026, 12, 25), date(2026, 12, 28)})
)


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def test_within_the_same_day():
    start = local("America/New_York", 2026, 3, 2, 10, 0)  # Monday
    assert add_business_time(NY, start, timedelta(hours=2)) == local(
        "America/New_York", 2026, 3, 2, 12, 0
    )


def test_friday_afternoon_rolls_over_the_weekend():
    start = local("America/New_York", 2026, 3, 6, 16, 0)  # Friday 16:00
    assert add_business_time(NY, start, timedelta(hours=2)) == local(
        "America/New_York", 2026, 3, 9, 10, 0
    )


def test_inquiry_at_night_starts_counting_at_opening_time():
    start = local("America/New_York", 2026, 3, 3, 22, 30)
    assert add_business_time(NY, start, timedelta(minutes=30)) == local(
        "America/New_York", 2026, 3, 4, 9, 30
    )


def test_holidays_are_skipped():
    start = local(
        "Europe/Berlin", 2026, 12, 24, 16, 0
    )  # Thursday; 25th (Fri) and 28th (Mon) are holidays
    assert add_business_time(BERLIN, start, timedelta(hours=2)) == local(
        "Europe/Berlin", 2026, 12, 29, 10, 0
    )


def test_spring_forward_keeps_eight_working_hours_a_day():
    # New York springs forward on Sunday 2026-03-08: 09:00 local is 14:00 UTC before, 13:00 UTC after.
    friday = local("America/New_York", 2026, 3, 6, 17, 0)
    due = add_business_time(NY, friday, timedelta(hours=1))
    assert due == local("America/New_York", 2026, 3, 9, 10, 0)
    assert due.astimezone(UTC) == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def test_fall_back_in_europe():
    # Berlin falls back on Sunday 2026-10-25.
    friday = local("Europe/Berlin", 2026, 10, 23, 16, 0)
    due = add_business_time(BERLIN, friday, timedelta(hours=3))
    assert due == local("Europe/Berlin", 2026, 10, 26, 11, 0)
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 10, 0, tzinfo=UTC)


def test_same_instant_different_owners_time_zones():
    instant = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 16:00 Berlin, 10:00 New York
    assert add_business_time(BERLIN, instant, timedelta(hours=2)) == local(
        "Europe/Berlin", 2026, 3, 3, 10, 0
    )
    assert add_business_time(NY, instant, timedelta(hours=2)) == local(
        "America/New_York", 2026, 3, 2, 12, 0
    )


def test_split_shifts_and_working_time_checks():
    cal = BusinessCalendar(time_zone="UTC", weekly={0: ((time(8), time(12)), (time(13), time(17)))})
    monday = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert add_business_time(cal, monday, timedelta(hours=2)) == datetime(
        2026, 3, 2, 14, 0, tzinfo=UTC
    )
    assert not is_working_time(cal, datetime(2026, 3, 2, 12, 30, tzinfo=UTC))
    assert is_working_time(cal, datetime(2026, 3, 2, 13, 0, tzinfo=UTC))


def test_bad_calendars_are_refused():
    with pytest.raises(ValueError):
        BusinessCalendar(weekly={0: ((time(17), time(9)),)})
    with pytest.raises(ValueError):
        add_business_time(
            BusinessCalendar(weekly={}), datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1)
        )


ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Sao_Paulo",
]


@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 10),
)
def test_adding_then_measuring_gives_back_the_duration(zone, start, minutes):
    cal = BusinessCalendar(
        time_zone=zone, holidays=frozenset({date(2026, 1, 1), date(2026, 12, 25)})
    )
    duration = timedelta(minutes=minutes)
    due = add_business_time(cal, start, duration)
    assert due >= start
    assert business_time_between(cal, start, due) == duration
    if minutes:
        assert is_working_time(cal, due - timedelta(microseconds=1))


def test_escalation_ladder_in_business_hours():
    from leadrefinery.sla.domain import Step, Terms, start_clock

    terms = Terms(
        first_touch=timedelta(hours=1),
        accept=timedelta(hours=4),
        reassign_after=timedelta(minutes=30),
    )
    friday = local("America/New_York", 2026, 3, 6, 16, 40)
    clock = start_clock(terms, NY, friday)
    assert clock.ladder == (
        (Step.REMINDED, local("America/New_York", 2026, 3, 9, 9, 10)),
        (Step.BREACHED, local("America/New_York", 2026, 3, 9, 9, 40)),
        (Step.REASSIGNED, local("America/New_York", 2026, 3, 9, 10, 10)),
    )
    assert clock.next_after(Step.REMINDED) == (
        Step.BREACHED,
        local("America/New_York", 2026, 3, 9, 9, 40),
    )
    assert clock.next_after(Step.REASSIGNED) is None
