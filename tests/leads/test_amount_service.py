"""lead_set_amount and the moves to Opportunity and Won: the lead's deal value, each change an
'amount' event with who, when, and the old and new values, published to the registry."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leadrefinery.common.errors import ServiceError
from leadrefinery.common.subscriptions import Subscriber
from leadrefinery.leads import events
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, LeadEvent
from leadrefinery.leads.services import (
    TransitionRefused,
    lead_dispose,
    lead_set_amount,
    lead_transition,
)

pytestmark = pytest.mark.django_db


def _working(lead, rep):
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=Actor.system("test"))
    return lead_transition(lead=lead, to_stage="working", actor=Actor.of(rep))


def _amount_events(lead):
    return list(LeadEvent.objects.filter(lead=lead, kind="amount").order_by("id"))


def test_setting_the_expected_value_records_who_when_and_from_what(make_lead, users):
    lead = make_lead()
    me = Actor.of(users.rep)
    lead_set_amount(lead=lead, opportunity_amount=Decimal("10000"), actor=me)
    lead = lead_set_amount(
        lead=lead, opportunity_amount=Decimal("12500.5"), currency="eur", actor=me
    )

    lead.refresh_from_db()
    assert (lead.opportunity_amount, lead.currency) == (Decimal("12500.50"), "EUR")
    first, second = _amount_events(lead)
    assert (second.actor, second.actor_label) == (users.rep, "ron")
    assert second.data == {
        "changes": {
            "opportunity_amount": {"from": "10000.00", "to": "12500.50"},
            "currency": {"from": "", "to": "EUR"},
        },
        "currency": "EUR",
    }
    assert first.data["changes"] == {"opportunity_amount": {"from": None, "to": "10000.00"}}
    assert second.note == "Expected value: 12,500.50 EUR (was 10,000.00 USD)"


def test_nothing_changed_records_nothing(make_lead, users):
    lead = make_lead()
    me = Actor.of(users.rep)
    lead_set_amount(lead=lead, opportunity_amount=Decimal("500"), currency="USD", actor=me)
    lead_set_amount(lead=lead, opportunity_amount=Decimal("500.00"), currency="usd", actor=me)
    lead_set_amount(lead=lead, actor=me)  # nothing given: nothing to change
    assert len(_amount_events(lead)) == 1


def test_clearing_an_amount_and_the_currency(make_lead, users):
    lead = make_lead()
    me = Actor.of(users.rep)
    lead_set_amount(lead=lead, opportunity_amount=Decimal("500"), currency="GBP", actor=me)
    lead = lead_set_amount(lead=lead, opportunity_amount=None, currency="", actor=me)
    assert (lead.opportunity_amount, lead.currency) == (None, "")
    assert _amount_events(lead)[-1].note == "Expected value: cleared (was 500.00 GBP)"


def test_a_change_of_currency_alone_says_so(make_lead, users):
    lead = make_lead()
    me = Actor.of(users.rep)
    lead_set_amount(lead=lead, opportunity_amount=Decimal("500"), actor=me)
    lead_set_amount(lead=lead, currency="jpy", actor=me)
    assert _amount_events(lead)[-1].note == "Currency: JPY (was USD)"


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"opportunity_amount": Decimal("-1")}, "opportunity_amount", "must be 0 or more"),
        (
            {"opportunity_amount": Decimal("1000000000000")},
            "opportunity_amount",
            "is too large (at most 12 digits before the decimal point)",
        ),
        ({"opportunity_amount": Decimal("0.001")}, "opportunity_amount", "more than 2 decimal"),
        ({"currency": "EURO"}, "currency", "'EURO' is not an ISO 4217 currency code"),
        ({"won_amount": Decimal("5")}, "won_amount", "only a won lead has an amount won"),
    ],
)
def test_bad_values_are_refused_with_the_field_and_change_nothing(
    make_lead, users, given, field, message
):
    lead = make_lead()
    with pytest.raises(ServiceError) as refused:
        lead_set_amount(lead=lead, actor=Actor.of(users.rep), **given)
    assert refused.value.field == field and message in refused.value.message
    lead.refresh_from_db()
    assert (lead.opportunity_amount, lead.won_amount, lead.currency) == (None, None, "")
    assert not _amount_events(lead)


def test_a_new_opportunity_may_come_with_its_expected_value(make_lead, users):
    lead = _working(make_lead(), users.rep)
    lead = lead_transition(
        lead=lead,
        to_stage="opportunity",
        opportunity_amount=Decimal("40000"),
        currency="EUR",
        actor=Actor.of(users.rep),
    )
    assert (lead.stage, lead.opportunity_amount, lead.currency) == (
        "opportunity",
        Decimal("40000.00"),
        "EUR",
    )
    kinds = list(LeadEvent.objects.filter(lead=lead).order_by("id").values_list("kind", flat=True))
    assert kinds[-2:] == ["stage_changed", "amount"]


def test_a_win_without_an_amount_is_won_at_the_expected_value(make_lead, users):
    lead = _working(make_lead(), users.rep)
    lead = lead_transition(
        lead=lead,
        to_stage="opportunity",
        opportunity_amount=Decimal("40000"),
        actor=Actor.of(users.rep),
    )
    lead = lead_dispose(lead=lead, reason_code="won", actor=Actor.of(users.rep))

    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.stage, lead.won_amount, lead.opportunity_amount) == (
        "won",
        Decimal("40000.00"),
        Decimal("40000.00"),
    )
    won = _amount_events(lead)[-1]
    assert won.data["changes"] == {"won_amount": {"from": None, "to": "40000.00"}}
    assert won.note == "Amount won: 40,000.00 USD"


def test_a_win_with_its_own_amount_and_one_with_no_value_at_all(make_lead, users):
    me = Actor.of(users.rep)
    lead = _working(make_lead(), users.rep)
    lead = lead_transition(
        lead=lead, to_stage="opportunity", opportunity_amount=Decimal("40000"), actor=me
    )
    lead = lead_dispose(lead=lead, reason_code="won", won_amount=Decimal("38500"), actor=me)
    assert (lead.won_amount, lead.opportunity_amount) == (Decimal("38500.00"), Decimal("40000.00"))

    plain = _working(make_lead(), users.rep)
    plain = lead_transition(lead=plain, to_stage="opportunity", actor=me)
    plain = lead_dispose(lead=plain, reason_code="won", actor=me)
    assert plain.won_amount is None and not _amount_events(plain)


def test_amounts_go_only_with_opportunity_and_won(make_lead, users):
    me = Actor.of(users.rep)
    lead = _working(make_lead(), users.rep)
    with pytest.raises(TransitionRefused) as refused:
        lead_dispose(lead=lead, reason_code="lost_price", won_amount=Decimal("5"), actor=me)
    assert refused.value.field == "won_amount"
    with pytest.raises(TransitionRefused) as refused:
        lead_transition(
            lead=lead, to_stage="nurture", reason_code="recycle_not_ready", currency="EUR", actor=me
        )
    assert refused.value.field == "currency"
    lead.refresh_from_db()
    assert lead.stage == "working"  # refused whole: no stage change either


def test_a_win_in_another_currency_than_the_expected_value_is_refused(make_lead, users):
    """A lead has one currency: 40,000 USD expected must not silently become 40,000 EUR."""
    me = Actor.of(users.rep)
    lead = _working(make_lead(), users.rep)
    lead = lead_transition(
        lead=lead, to_stage="opportunity", opportunity_amount=Decimal("40000"), actor=me
    )
    for won_amount in (Decimal("38000"), None):
        with pytest.raises(TransitionRefused) as refused:
            lead_dispose(
                lead=lead, reason_code="won", won_amount=won_amount, currency="EUR", actor=me
            )
        assert refused.value.field == "currency"
        assert "the expected value is in USD" in refused.value.message
    lead = lead_dispose(
        lead=lead, reason_code="won", won_amount=Decimal("38000"), currency="usd", actor=me
    )
    assert (lead.stage, lead.won_amount, lead.currency) == ("won", Decimal("38000.00"), "USD")


def test_a_bad_amount_on_a_move_leaves_the_stage_as_it_was(make_lead, users):
    lead = _working(make_lead(), users.rep)
    with pytest.raises(ServiceError) as refused:
        lead_transition(
            lead=lead,
            to_stage="opportunity",
            opportunity_amount=Decimal("-5"),
            actor=Actor.of(users.rep),
        )
    assert refused.value.field == "opportunity_amount"
    lead.refresh_from_db()
    assert (lead.stage, lead.opportunity_amount) == ("working", None)


def test_a_won_lead_may_correct_its_amount_won_and_a_merged_one_nothing(make_lead, users):
    me = Actor.of(users.rep)
    lead = _working(make_lead(), users.rep)
    lead = lead_transition(lead=lead, to_stage="opportunity", actor=me)
    lead = lead_dispose(lead=lead, reason_code="won", actor=me)
    lead = lead_set_amount(lead=lead, won_amount=Decimal("9999.99"), actor=me)
    assert lead.won_amount == Decimal("9999.99")

    Lead.objects.filter(pk=lead.pk).update(stage="merged")
    with pytest.raises(ServiceError, match="merged"):
        lead_set_amount(lead=lead, opportunity_amount=Decimal("1"), actor=me)


HEARD: list[tuple[str, dict]] = []


def listen(changes):
    HEARD.extend((c.kind, c.data) for c in changes)


def test_the_registry_publishes_the_amount_event(make_lead, users, monkeypatch):
    follows = Subscriber(name="test", kinds=frozenset({"amount"}), handler=f"{__name__}.listen")
    monkeypatch.setattr(events, "_subscribers", lambda: (follows,))
    HEARD.clear()
    lead_set_amount(lead=make_lead(), opportunity_amount=Decimal("7"), actor=Actor.of(users.rep))
    assert HEARD == [
        (
            "amount",
            {"changes": {"opportunity_amount": {"from": None, "to": "7.00"}}, "currency": "USD"},
        )
    ]
