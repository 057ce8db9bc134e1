"""The lifecycle state machine, pure (no database)."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from leadrefinery.leads.domain import (
    TERMINAL,
    TRANSITIONS,
    LeadFacts,
    PersistenceRule,
    ReasonFacts,
    Stage,
    decide_transition,
)

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
RULE = PersistenceRule(min_touches=6, min_days=14)
NO_RESPONSE = ReasonFacts(code="lost_no_response", stage=Stage.LOST, needs_persistence=True)


def test_no_response_refused_before_six_touches_even_after_fourteen_days():
    lead = LeadFacts(stage=Stage.WORKING, sales_touches=5, first_sales_touch_at=T0)
    decision = decide_transition(
        lead, Stage.LOST, reason=NO_RESPONSE, at=T0 + timedelta(days=20), rule=RULE
    )
    assert not decision.allowed
    assert "needs at least 6 sales touches" in decision.message
    assert "1 to go" in decision.message


def test_no_response_refused_before_fourteen_days_even_with_many_touches():
    lead = LeadFacts(stage=Stage.WORKING, sales_touches=9, first_sales_touch_at=T0)
    decision = decide_transition(
        lead, Stage.LOST, reason=NO_RESPONSE, at=T0 + timedelta(days=10), rule=RULE
    )
    assert not decision.allowed
    assert "14 days" in decision.message


def test_no_response_allowed_once_the_rule_is_met():
    lead = LeadFacts(stage=Stage.WORKING, sales_touches=6, first_sales_touch_at=T0)
    decision = decide_transition(
        lead, Stage.LOST, reason=NO_RESPONSE, at=T0 + timedelta(days=14), rule=RULE
    )
    assert decision.allowed, decision.errors
    assert any("persistence rule met" in r for r in decision.reasons)


def test_closing_needs_a_reason_and_the_reason_must_fit_the_stage():
    lead = LeadFacts(stage=Stage.OPPORTUNITY)
    assert "required" in decide_transition(lead, Stage.WON, reason=None, at=T0, rule=RULE).message
    wrong = ReasonFacts(code="dq_spam", stage=Stage.DISQUALIFIED)
    assert (
        "belongs to Disqualified"
        in decide_transition(lead, Stage.WON, reason=wrong, at=T0, rule=RULE).message
    )


def test_recycle_from_sales_needs_a_reason_and_changes_owner():
    lead = LeadFacts(stage=Stage.WORKING)
    assert not decide_transition(lead, Stage.NURTURE, reason=None, at=T0, rule=RULE).allowed
    reason = ReasonFacts(code="recycle_not_ready", stage=Stage.NURTURE)
    decision = decide_transition(lead, Stage.NURTURE, reason=reason, at=T0, rule=RULE)
    assert decision.allowed and decision.needs_owner_change


def test_merged_only_through_the_merge_service():
    lead = LeadFacts(stage=Stage.INQUIRY)
    assert not decide_transition(lead, Stage.MERGED, reason=None, at=T0, rule=RULE).allowed
    assert decide_transition(
        lead, Stage.MERGED, reason=None, at=T0, rule=RULE, via_merge=True
    ).allowed


@given(st.sampled_from(sorted(TERMINAL)), st.sampled_from(list(Stage)))
def test_closed_leads_never_move(frm, to):
    decision = decide_transition(
        LeadFacts(stage=frm), to, reason=None, at=T0, rule=RULE, via_merge=True
    )
    assert not decision.allowed


@given(st.sampled_from(list(Stage)), st.sampled_from(list(Stage)))
def test_every_allowed_move_is_in_the_table(frm, to):
    reason = (
        ReasonFacts(code="x", stage=to)
        if to in {Stage.WON, Stage.LOST, Stage.DISQUALIFIED, Stage.NURTURE}
        else None
    )
    decision = decide_transition(
        LeadFacts(stage=frm), to, reason=reason, at=T0, rule=RULE, via_merge=True
    )
    if decision.allowed:
        assert to in TRANSITIONS[frm]
