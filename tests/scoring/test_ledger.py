"""Every score equals the sum of its log, whatever happens: events in any order, caps, decay
sweeps, rule changes. Decay is tested on a frozen clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Sum
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrefinery.scoring import domain
from leadrefinery.scoring.models import LeadScore, ScoreLog, ScoringRule
from leadrefinery.scoring.rules import scoring_rule_save
from leadrefinery.scoring.services import decay_sweep, events_score

pytestmark = pytest.mark.django_db

EVENT_TYPES = ["page_visit", "email_open", "email_click", "webinar", "download", "unsubscribe"]


def assert_ledger_balances(lead) -> LeadScore:
    score = LeadScore.objects.get(lead=lead)
    logs = ScoreLog.objects.filter(lead=lead)
    fit = logs.filter(axis="fit").aggregate(s=Sum("delta"))["s"] or 0
    engagement = logs.filter(axis="engagement").aggregate(s=Sum("delta"))["s"] or 0
    assert (score.fit_points, score.engagement) == (fit, engagement)
    return score


steps = st.lists(
    st.one_of(
        st.tuples(st.just("event"), st.sampled_from(EVENT_TYPES), st.integers(-72, 0)),
        st.tuples(st.just("wait"), st.integers(1, 40), st.just(0)),
        st.tuples(st.just("sweep"), st.just(""), st.just(0)),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=30)
@given(steps=steps)
def test_totals_equal_the_sum_of_their_logs_after_random_event_sequences(
    steps, make_lead, frozen_now
):
    lead = make_lead(title="IT Director", company="Acme")
    for kind, what, hours in steps:
        if kind == "event":
            at = frozen_now.at + timedelta(hours=hours)
            events_score(items=[(lead.pk, domain.Event(type=what, at=at))])
        elif kind == "wait":
            frozen_now.advance(timedelta(days=what))
        else:
            decay_sweep()
        assert_ledger_balances(lead)


def test_engagement_decays_with_the_half_life_on_a_frozen_clock(make_lead, frozen_now):
    lead = make_lead()  # an API inquiry: 10 points, half-life 60 days
    events_score(items=[(lead.pk, domain.Event(type="webinar", at=frozen_now.at))])  # 20, 60 days
    assert assert_ledger_balances(lead).engagement == 30

    frozen_now.advance(timedelta(days=60))
    assert decay_sweep() == 1
    score = assert_ledger_balances(lead)
    assert score.engagement == 15
    decay = ScoreLog.objects.filter(lead=lead, event_type="decay")
    assert sum(decay.values_list("delta", flat=True)) == -15

    assert decay_sweep() == 0  # nothing is due again until tomorrow
    frozen_now.advance(timedelta(days=240))
    decay_sweep()
    assert assert_ledger_balances(lead).engagement == 1  # 30 / 2**5 = 0.94


def test_the_sweep_touches_only_leads_that_are_due(make_lead, frozen_now):
    busy = make_lead()
    quiet = make_lead(channel="import")  # a list import row is not behaviour: nothing decays
    assert LeadScore.objects.get(lead=quiet).decay_due_at is None
    # 10 points with a 60-day half-life still round to 10 for four days: no work before then.
    assert LeadScore.objects.get(lead=busy).decay_due_at == frozen_now.at + timedelta(days=5)
    frozen_now.advance(timedelta(days=4))
    assert decay_sweep() == 0
    frozen_now.advance(timedelta(days=1))
    assert decay_sweep() == 1
    assert LeadScore.objects.get(lead=busy).decay_due_at > frozen_now.at


def test_page_visit_points_are_capped_per_day(make_lead, frozen_now):
    lead = make_lead()
    visits = [(lead.pk, domain.Event(type="page_visit", at=frozen_now.at)) for _ in range(8)]
    events_score(items=visits)
    logs = ScoreLog.objects.filter(lead=lead, event_type="page_visit")
    assert sum(logs.values_list("delta", flat=True)) == 15  # 3 points each, at most 15 a day

    events_score(items=visits[:2])  # the same day, later: still capped
    assert sum(logs.values_list("delta", flat=True)) == 15

    frozen_now.advance(timedelta(days=1))
    events_score(items=[(lead.pk, domain.Event(type="page_visit", at=frozen_now.at))] * 2)
    assert sum(logs.values_list("delta", flat=True)) == 21
    assert_ledger_balances(lead)


def test_a_fit_rule_change_rescores_open_leads_through_the_log(make_lead):
    lead = make_lead(title="Purchasing Manager", company="Acme")
    before = assert_ledger_balances(lead).fit_points
    rule = ScoringRule.objects.get(name="Manager title")

    scoring_rule_save(rule=rule, changes={"points": 40})

    score = assert_ledger_balances(lead)
    assert score.fit_points == before + 30
    assert ScoreLog.objects.filter(lead=lead, event_type="rescore", delta=30).exists()
