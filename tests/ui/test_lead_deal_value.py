"""The deal value on the lead page: shown with its currency, edited in its own box by whoever
may work the lead, asked for when the lead becomes an opportunity or is won. Bad values are
shown next to their field (400), never a server error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, LeadEvent
from leadrefinery.leads.services import lead_dispose, lead_set_amount, lead_transition

pytestmark = pytest.mark.django_db


def working(lead, rep):
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=Actor.system("test"))
    return lead_transition(lead=lead, to_stage="working", actor=Actor.of(rep))


def deal_box(html: str) -> str:
    start = html.index('id="deal-value"')
    return html[start : html.index("</article>", start)]


def test_the_page_shows_the_expected_value_with_its_currency(owned, users, client_for):
    client = client_for(users.rep)
    box = deal_box(client.get(f"/leads/{owned.ron.pk}/").content.decode())
    assert "Deal value" in box and "Expected value" in box and "—" in box
    assert "Amount won" not in box  # an open lead has won nothing yet

    lead_set_amount(
        lead=owned.ron,
        opportunity_amount=Decimal("12500"),
        currency="EUR",
        actor=Actor.of(users.rep),
    )
    box = deal_box(client.get(f"/leads/{owned.ron.pk}/").content.decode())
    assert '<dd class="deal-expected">12,500.00 EUR</dd>' in box
    assert "Updated" in box and "by Ron Rep" in box


def test_the_owner_edits_the_deal_value_and_the_timeline_says_so(owned, users, client_for):
    client = client_for(users.rep)
    response = client.post(
        f"/leads/{owned.ron.pk}/amount/", {"opportunity_amount": "€12.500,00", "currency": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{owned.ron.pk}/#action-amount"
    lead = Lead.objects.get(pk=owned.ron.pk)
    assert (lead.opportunity_amount, lead.currency) == (Decimal("12500.00"), "EUR")

    html = client.get(response["Location"]).content.decode()
    assert "Deal value saved." in deal_box(html)
    assert "Amount changed" in html and "Expected value: 12,500.00 EUR" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"opportunity_amount": "-5"}, "&#x27;-5&#x27; must be 0 or more"),
        ({"opportunity_amount": "lots"}, "&#x27;lots&#x27; is not an amount"),
        ({"opportunity_amount": "9999999999999"}, "is too large"),
        ({"opportunity_amount": "10", "currency": "XYZ"}, "is not an ISO 4217 currency code"),
        (
            {"opportunity_amount": "€10", "currency": "USD"},
            "The amount is in EUR, but the currency says otherwise.",
        ),
    ],
)
def test_bad_values_are_shown_next_to_the_field(owned, users, client_for, data, message):
    response = client_for(users.rep).post(f"/leads/{owned.ron.pk}/amount/", data)
    assert response.status_code == 400
    box = deal_box(response.content.decode())
    assert message in box
    assert '<details class="edit-amount" open>' in box  # the form stays open on its errors
    assert Lead.objects.get(pk=owned.ron.pk).opportunity_amount is None


def test_who_may_edit_it_is_who_may_work_the_lead(owned, users, client_for):
    data = {"opportunity_amount": "100"}
    assert (
        client_for(users.other_rep).post(f"/leads/{owned.ron.pk}/amount/", data).status_code == 404
    )
    assert client_for(users.manager).post(f"/leads/{owned.ron.pk}/amount/", data).status_code == 302
    assert client_for(users.admin).post(f"/leads/{owned.rita.pk}/amount/", data).status_code == 302
    assert Lead.objects.get(pk=owned.ron.pk).opportunity_amount == Decimal("100.00")


def test_moving_to_opportunity_asks_for_the_expected_value(owned, users, client_for):
    lead = working(owned.ron, users.rep)
    client = client_for(users.rep)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert 'name="amount"' in page and "Expected deal value (optional)" in page

    response = client.post(
        f"/leads/{lead.pk}/stage/", {"to_stage": "opportunity", "amount": "40,000"}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.stage, lead.opportunity_amount) == ("opportunity", Decimal("40000.00"))
    html = client.get(response["Location"]).content.decode()
    assert "Moved to Opportunity, worth 40,000.00 USD." in html


def test_closing_as_won_takes_the_expected_value_or_the_amount_given(owned, users, client_for):
    me = Actor.of(users.rep)
    lead = lead_transition(
        lead=working(owned.ron, users.rep),
        to_stage="opportunity",
        opportunity_amount=Decimal("40000"),
        actor=me,
    )
    client = client_for(users.rep)
    # Choosing Won (htmx) offers the amount won, saying what an empty one means.
    choice = client.get(f"/leads/{lead.pk}/reasons/", {"to_stage": "won"}).content.decode()
    assert (
        "Amount won (optional)" in choice and "Empty: the expected value, 40,000.00 USD." in choice
    )
    lost = client.get(f"/leads/{lead.pk}/reasons/", {"to_stage": "lost"}).content.decode()
    assert 'name="amount"' not in lost

    response = client.post(f"/leads/{lead.pk}/stage/", {"to_stage": "won", "reason": "won"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.stage, lead.won_amount) == ("won", Decimal("40000.00"))
    html = client.get(response["Location"]).content.decode()
    assert "Moved to Won at 40,000.00 USD." in html
    assert '<dd class="deal-won">40,000.00 USD</dd>' in deal_box(html)

    other = lead_transition(
        lead=working(owned.rita, users.rep2), to_stage="opportunity", actor=Actor.of(users.rep2)
    )
    response = client_for(users.rep2).post(
        f"/leads/{other.pk}/stage/", {"to_stage": "won", "reason": "won", "amount": "£9,000"}
    )
    other.refresh_from_db()
    assert (other.won_amount, other.currency) == (Decimal("9000.00"), "GBP")


def test_a_win_in_another_currency_than_expected_says_what_to_do(owned, users, client_for):
    lead = lead_transition(
        lead=working(owned.ron, users.rep),
        to_stage="opportunity",
        opportunity_amount=Decimal("40000"),
        actor=Actor.of(users.rep),
    )
    response = client_for(users.rep).post(
        f"/leads/{lead.pk}/stage/", {"to_stage": "won", "reason": "won", "amount": "€38,000"}
    )
    assert response.status_code == 400
    assert (
        "the expected value is in USD; give this amount in USD too, or change the lead&#x27;s "
        "currency under Deal value first" in response.content.decode()
    )
    lead.refresh_from_db()
    assert (lead.stage, lead.currency) == ("opportunity", "")


def test_an_amount_with_another_stage_is_refused_next_to_the_amount(owned, users, client_for):
    lead = working(owned.ron, users.rep)
    response = client_for(users.rep).post(
        f"/leads/{lead.pk}/stage/",
        {"to_stage": "lost", "reason": "lost_price", "amount": "500"},
    )
    assert response.status_code == 400
    assert "a deal value goes with Opportunity or Won" in response.content.decode()
    lead.refresh_from_db()
    assert lead.stage == "working"
    bad = client_for(users.rep).post(
        f"/leads/{lead.pk}/stage/", {"to_stage": "opportunity", "amount": "-1"}
    )
    assert bad.status_code == 400 and "must be 0 or more" in bad.content.decode()


def test_a_won_lead_may_correct_its_amount_won(owned, users, client_for):
    me = Actor.of(users.rep)
    lead = lead_transition(lead=working(owned.ron, users.rep), to_stage="opportunity", actor=me)
    lead_dispose(lead=lead, reason_code="won", actor=me)
    client = client_for(users.rep)
    assert 'name="won_amount"' in client.get(f"/leads/{lead.pk}/").content.decode()
    client.post(f"/leads/{lead.pk}/amount/", {"opportunity_amount": "", "won_amount": "1,234.50"})
    lead.refresh_from_db()
    assert lead.won_amount == Decimal("1234.50")
    assert LeadEvent.objects.filter(lead=lead, kind="amount").count() == 1
