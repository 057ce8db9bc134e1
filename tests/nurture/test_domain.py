"""The pure nurture rules: windows, caps, consent, entry and exit (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadrefinery.nurture import content, domain

WINDOW = domain.SendWindow(start=time(9, 0), end=time(17, 0), weekdays=(0, 1, 2, 3, 4))
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]


@given(
    at=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(ZONES),
)
def test_next_in_window_is_the_first_moment_inside_the_local_window(at, zone):
    from zoneinfo import ZoneInfo

    found = domain.next_in_window(at, WINDOW, zone)
    local = found.astimezone(ZoneInfo(zone))
    assert found >= at
    assert local.weekday() in WINDOW.weekdays
    assert time(9, 0) <= local.time() < time(17, 0)
    assert found - at < timedelta(days=4)  # never later than the next working morning
    if found > at:  # it moved: the start of a window, since "at" was outside one
        assert local.time() == time(9, 0)


def test_next_in_window_keeps_a_time_already_inside():
    monday_10_berlin = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert domain.next_in_window(monday_10_berlin, WINDOW, "Europe/Berlin") == monday_10_berlin
    friday_evening = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
    assert domain.next_in_window(friday_evening, WINDOW, "UTC") == datetime(
        2026, 3, 9, 9, 0, tzinfo=UTC
    )


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=60 * 24 * 20), max_size=8),
    messages=st.integers(min_value=1, max_value=4),
    days=st.integers(min_value=1, max_value=14),
)
def test_the_cap_never_allows_more_than_n_in_any_window(offsets, messages, days):
    at = datetime(2026, 3, 20, tzinfo=UTC)
    sent = [at - timedelta(minutes=m) for m in offsets]
    cap = domain.Cap(messages=messages, days=days)
    decision, free_at = domain.cap_decision(sent, at, cap)
    recent = [t for t in sent if t > at - timedelta(days=days)]
    assert decision.ok == (len(recent) < messages)
    if not decision.ok:
        assert free_at > at
        after = [t for t in sent if t > free_at - timedelta(days=days)]
        assert len(after) < messages  # at free_at one more fits
        assert decision.reasons


def test_consent_where_opt_in_is_required():
    eu = ["DE", "FR", "GB"]
    assert not domain.consent_decision(country="DE", bases=[], opt_in_countries=eu).ok
    assert domain.consent_decision(country="DE", bases=["opt_in"], opt_in_countries=eu).ok
    assert domain.consent_decision(country="US", bases=[], opt_in_countries=eu).ok
    # Withdrawn anywhere (also on a person merged into this one) wins: the stricter consent.
    withdrawn = domain.consent_decision(
        country="US", bases=["opt_in", "withdrawn"], opt_in_countries=eu
    )
    assert (withdrawn.ok, withdrawn.reason) == (False, "withdrawn")
    suppressed = domain.consent_decision(
        country="US", bases=["opt_in"], opt_in_countries=eu, suppressed="hard_bounce"
    )
    assert (suppressed.ok, suppressed.reason) == (False, "suppressed")


def lead(**kw):
    facts = dict(
        stage="nurture", temperature="warm", owner_is_user=False, recycled=False, disposition=""
    )
    return domain.LeadSnapshot(**{**facts, **kw})


@pytest.mark.parametrize(
    ("facts", "rules", "expected"),
    [
        ({}, ["warm"], "warm"),
        ({"temperature": "cool"}, ["warm"], None),
        ({"recycled": True, "temperature": ""}, ["recycled"], "recycled"),
        ({"stage": "inquiry", "temperature": ""}, ["new_inquiry"], "new_inquiry"),
        (
            {"stage": "lost", "disposition": "lost_no_decision"},
            ["lost_no_decision"],
            "lost_no_decision",
        ),
        ({"stage": "lost", "disposition": "lost_price"}, ["lost_no_decision"], None),
        # The rep who lost it still owns it; marketing nurtures it all the same.
        (
            {"stage": "lost", "disposition": "lost_no_decision", "owner_is_user": True},
            ["lost_no_decision"],
            "lost_no_decision",
        ),
        ({"temperature": "hot"}, ["warm", "new_inquiry"], None),
        ({"owner_is_user": True}, ["warm"], None),
        ({"stage": "working"}, ["warm"], None),
    ],
)
def test_entry_rules(facts, rules, expected):
    decision = domain.entry_decision(lead(**facts), rules)
    assert decision.ok == (expected is not None)
    if expected:
        assert decision.reason == expected
    assert decision.reasons


@pytest.mark.parametrize(
    ("facts", "suppression", "expected"),
    [
        ({}, "", None),
        ({"temperature": "hot"}, "", "hot"),
        ({"stage": "won"}, "", "won"),
        ({"owner_is_user": True}, "", "owner_took_back"),
        ({"stage": "sales_ready"}, "", "owner_took_back"),
        ({}, "unsubscribed", "unsubscribed"),
        ({}, "hard_bounce", "bounced"),
        ({}, "complaint", "bounced"),
        ({"stage": "disqualified"}, "", "closed"),
        ({"stage": "lost", "disposition": "lost_no_decision"}, "", None),
    ],
)
def test_exit_rules(facts, suppression, expected):
    decision = domain.exit_decision(lead(**facts), [], suppression=suppression)
    assert decision.ok == (expected is not None)
    assert decision.reason == (expected or "")


def test_program_and_message_validation():
    assert domain.program_problems(
        entry_rules=["warm", "sometimes"],
        exit_rules=["never"],
        weekdays=[7],
        window_start=time(17),
        window_end=time(9),
        time_zone="Mars/Olympus",
        interval_days=0,
    ) == [
        "unknown entry rule 'sometimes'",
        "unknown exit rule 'never'",
        "weekdays are numbers from 0 (Monday) to 6 (Sunday)",
        "the send window must end after it starts",
        "unknown time zone 'Mars/Olympus'",
        "the interval is at least one day",
    ]
    assert domain.message_problems("Hi {{ nickname }}", "x") == [
        "unknown merge field 'nickname'; use one of first_name, last_name, full_name, company, "
        "email, country"
    ]


@given(name=st.text(max_size=40))
def test_merge_values_cannot_inject_links_or_markup(name):
    rendered = content.render(
        subject="Hi {{ first_name }}",
        body_markdown="Hello {{ first_name }}, see [us](https://example.com).",
        values={**content.SAMPLE, "first_name": name},
        unsubscribe_url="https://x.example/u/t",
        postal_address="1 Road",
    )
    assert rendered.html.count("<a ") == 2  # the content link and the unsubscribe link
    assert "<script" not in rendered.html.lower()
    assert "\n" not in rendered.subject
