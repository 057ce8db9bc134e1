"""The pure hygiene rules: each flag with its reason and start, and when to look again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from leadrefinery.leads.domain import OVERDUE_AFTER
from leadrefinery.review.domain import Flag, LeadFacts, Rules, flags_for

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
RULES = Rules(no_touch_days=7, stage_max_days={"working": 30})
BASE = LeadFacts(
    stage="working",
    is_open=True,
    working=True,
    next_action_due_at=AT + DAY,
    stage_changed_at=AT - 2 * DAY,
    last_sales_touch_at=AT - DAY,
    accepted_or_assigned_at=AT - 2 * DAY,
    owner_label="riley",
    owner_inactive_since=None,
    owner_away_until=None,
    queue_dead_since=None,
    queued_since=None,
    sla_breached_at=None,
    first_sales_touch_at=AT - DAY,
    duplicate_waiting_since=None,
    nurture_since=None,
    nurtured=False,
)


def kinds(facts: LeadFacts, at: datetime = AT) -> list[Flag]:
    return [f.flag for f in flags_for(facts, at, RULES).flags]


def test_a_well_worked_lead_has_no_flag_and_says_when_to_look_again():
    result = flags_for(BASE, AT, RULES)
    assert result.flags == ()
    # The next action falls due first, an hour's grace after its due time (as on the lead
    # list), then no touch for 7 days, then the stage's 30 days.
    assert result.next_check == AT + DAY + OVERDUE_AFTER


def test_overdue_starts_an_hour_after_the_due_time_as_on_the_lead_list():
    [found] = flags_for(replace(BASE, next_action_due_at=AT - 3 * DAY), AT, RULES).flags
    assert (found.flag, found.since) == (Flag.OVERDUE, AT - 3 * DAY + OVERDUE_AFTER)
    assert kinds(replace(BASE, next_action_due_at=AT - OVERDUE_AFTER / 2)) == []


def test_no_next_action_at_all_is_overdue():
    assert kinds(replace(BASE, next_action_due_at=None)) == [Flag.OVERDUE]


def test_no_sales_touch_for_the_set_days_while_working():
    facts = replace(
        BASE,
        last_sales_touch_at=AT - 8 * DAY,
        stage_changed_at=AT - 9 * DAY,
        accepted_or_assigned_at=AT - 9 * DAY,
    )
    [found] = flags_for(facts, AT, RULES).flags
    assert (found.flag, found.since) == (Flag.NO_TOUCH, AT - DAY)
    assert "7 days" in found.reason


def test_in_a_stage_longer_than_it_allows():
    facts = replace(BASE, stage_changed_at=AT - 31 * DAY, accepted_or_assigned_at=AT - 31 * DAY)
    assert Flag.STAGE_AGE in kinds(facts)


def test_breached_and_untouched_comes_first():
    facts = replace(
        BASE,
        stage="sales_ready",
        working=False,
        first_sales_touch_at=None,
        last_sales_touch_at=None,
        sla_breached_at=AT - DAY,
        next_action_due_at=AT - 2 * DAY,
    )
    assert kinds(facts) == [Flag.SLA_UNTOUCHED, Flag.OVERDUE]


def test_owner_away_ends_by_itself():
    facts = replace(BASE, owner_away_until=AT + 2 * DAY, next_action_due_at=AT + 5 * DAY)
    result = flags_for(facts, AT, RULES)
    assert [f.flag for f in result.flags] == [Flag.OWNER_INACTIVE]
    assert result.next_check == AT + 2 * DAY
    assert Flag.OWNER_INACTIVE not in kinds(facts, AT + 2 * DAY)


def test_in_nurture_without_a_program_after_a_days_grace():
    facts = replace(BASE, stage="nurture", working=False, nurture_since=AT - timedelta(hours=2))
    assert Flag.NOT_NURTURED not in kinds(facts)
    assert Flag.NOT_NURTURED in kinds(facts, AT + DAY)
    assert Flag.NOT_NURTURED not in kinds(replace(facts, nurtured=True), AT + DAY)


def test_a_closed_lead_has_no_flags_and_no_next_check():
    result = flags_for(replace(BASE, is_open=False, next_action_due_at=None), AT, RULES)
    assert (result.flags, result.next_check) == ((), None)


@given(st.integers(min_value=-40, max_value=40), st.integers(min_value=0, max_value=40))
def test_next_check_is_in_the_future_and_no_flag_starts_before_it(due_days, touch_days):
    facts = replace(
        BASE,
        next_action_due_at=AT + timedelta(days=due_days),
        last_sales_touch_at=AT - timedelta(days=touch_days),
    )
    result = flags_for(facts, AT, RULES)
    if result.next_check is not None:
        assert result.next_check > AT
        just_before = result.next_check - timedelta(seconds=1)
        assert kinds(facts, just_before) == [f.flag for f in result.flags]
    for found in result.flags:
        assert found.since <= AT and found.reason


def test_a_queue_has_a_clock_too():
    facts = replace(
        BASE,
        stage="inquiry",
        working=False,
        owner_label="Unassigned",
        queued_since=AT - timedelta(hours=3),
        next_action_due_at=AT + DAY,
    )
    result = flags_for(facts, AT, RULES)
    assert result.flags == () and result.next_check == AT + timedelta(hours=1)
    [found] = flags_for(facts, AT + timedelta(hours=2), RULES).flags
    assert (found.flag, found.since) == (Flag.QUEUE_WAIT, AT + timedelta(hours=1))
    assert "Unassigned queue" in found.reason
