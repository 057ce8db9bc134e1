"""Step timing and cadence rules, pure: no database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from leadrefinery.cadences import domain
from leadrefinery.sla.business_hours import BusinessCalendar, is_working_time

CALL = domain.Channel.CALL
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def spec(position: int, day: int, at_time: time | None = None) -> domain.StepSpec:
    return domain.StepSpec(position=position, day=day, channel=CALL, title="x", at_time=at_time)


def test_the_first_step_is_due_at_once_in_working_hours_or_at_the_next_opening():
    calendar = BusinessCalendar()
    assert (
        domain.step_due(
            calendar, spec(1, 0), previous=None, previous_done_at=None, started_at=MONDAY_9
        ).at
        == MONDAY_9
    )
    friday_evening = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
    due = domain.step_due(
        calendar, spec(1, 0), previous=None, previous_done_at=None, started_at=friday_evening
    )
    assert due.at == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday morning


def test_spacing_is_kept_from_when_the_step_before_was_done():
    calendar = BusinessCalendar()
    late = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # step 3 (day 2) done on Wednesday afternoon
    due = domain.step_due(
        calendar, spec(4, 4), previous=spec(3, 2), previous_done_at=late, started_at=MONDAY_9
    )
    assert due.at == datetime(2026, 3, 6, 9, 0, tzinfo=UTC)  # two days later, at opening
    assert "2 days after step 3" in due.reason


def test_steps_fall_in_the_owners_time_zone_and_skip_the_weekend():
    berlin = BusinessCalendar(time_zone="Europe/Berlin")
    friday = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
    due = domain.step_due(
        berlin,
        spec(2, 1, time(10, 30)),
        previous=spec(1, 0),
        previous_done_at=friday,
        started_at=friday,
    )
    assert due.at == datetime(2026, 3, 9, 9, 30, tzinfo=UTC)  # Monday 10:30 in Berlin (CET)


def test_twelve_months_later_keeps_the_day_or_takes_the_last_of_a_short_month():
    assert domain.add_months(datetime(2026, 3, 2, 9, tzinfo=UTC), 12) == datetime(
        2027, 3, 2, 9, tzinfo=UTC
    )
    assert domain.add_months(datetime(2028, 2, 29, tzinfo=UTC), 12) == datetime(
        2029, 2, 28, tzinfo=UTC
    )
    assert domain.add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, tzinfo=UTC
    )


def test_outcome_checks_follow_no_decision_no_response_and_recycles_only():
    at = MONDAY_9
    assert domain.outcome_check_due(reason_code="lost_no_decision", recycled=False, at=at)
    assert domain.outcome_check_due(reason_code="lost_no_response", recycled=False, at=at)
    assert domain.outcome_check_due(reason_code="recycle_timing", recycled=True, at=at)
    assert domain.outcome_check_due(reason_code="lost_price", recycled=False, at=at) is None
    assert domain.outcome_check_due(reason_code="won", recycled=False, at=at) is None


def test_the_end_recycles_only_without_contact_and_with_the_persistence_rule_met():
    assert domain.decide_end(contacted=False, persistence_problems=[], touches=11).recycle
    assert (
        "no response after 11 touches"
        in domain.decide_end(contacted=False, persistence_problems=[], touches=11).reason
    )
    assert not domain.decide_end(contacted=True, persistence_problems=[], touches=11).recycle
    refused = domain.decide_end(contacted=False, persistence_problems=["2 to go"], touches=4)
    assert not refused.recycle and "2 to go" in refused.reason


def test_a_cadence_that_cannot_meet_the_persistence_rule_is_refused():
    short = [(0, "call", "", ""), (1, "call", "", "")]
    problems = domain.template_problems(short, min_touches=6, min_days=14)["steps"]
    assert any("needs 6 touches" in p for p in problems)
    assert any("spans 1 days" in p for p in problems)
    bad = [(2, "call", "", ""), (1, "email", "Hi {{ nickname }}", "")] + [(20, "call", "", "")] * 5
    problems = domain.template_problems(bad, min_touches=6, min_days=14)["steps"]
    assert "step 2: day 1 comes before the step above it (day 2)" in problems
    assert "step 2: an email step needs a body" in problems
    assert "step 2: unknown placeholder '{{ nickname }}'" in problems


def test_placeholders_are_filled_and_unknown_values_left_empty():
    text = "Hi {{ first_name }}, about {{company}}{{ product }}."
    assert domain.render_text(text, {"first_name": "Olga", "company": "Brandt"}) == (
        "Hi Olga, about Brandt."
    )


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    days=st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=8),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]),
    lateness=st.lists(st.integers(min_value=0, max_value=60 * 72), min_size=8, max_size=8),
)
def test_every_step_falls_in_working_time_never_before_the_step_above(start, days, zone, lateness):
    calendar = BusinessCalendar(time_zone=zone)
    offsets = sorted(days)
    previous, done_at = None, None
    for position, day in enumerate(offsets, start=1):
        step = spec(position, day)
        due = domain.step_due(
            calendar, step, previous=previous, previous_done_at=done_at, started_at=start
        ).at
        assert is_working_time(calendar, due)
        assert due >= (done_at or start)
        if previous is not None and day > previous.day:
            # A later day in the owner's calendar, never the same day.
            assert due.astimezone(calendar.zone).date() > done_at.astimezone(calendar.zone).date()
        previous, done_at = step, due + timedelta(minutes=lateness[position - 1])
