"""The deal value in the API: opportunity_amount, won_amount (decimal text) and currency on
every lead; POST /leads/{id}/amount to set them; a win through /dispose with its amount."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead
from leadrefinery.leads.services import lead_assign, lead_set_amount, lead_transition

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


@pytest.fixture
def rons_lead(make_lead, users):
    return lead_assign(lead=make_lead(), owner_user=users.rep, actor=SYSTEM)


def opportunity(lead, rep):
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=SYSTEM)
    lead = lead_transition(lead=lead, to_stage="working", actor=Actor.of(rep))
    return lead_transition(lead=lead, to_stage="opportunity", actor=Actor.of(rep))


def errors(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return {e["loc"][-1]: e["msg"] for e in response.json()["detail"]}


def test_leads_show_their_deal_value_as_decimal_text(rons_lead, users, api_as):
    lead_set_amount(
        lead=rons_lead, opportunity_amount=Decimal("12500"), currency="eur", actor=SYSTEM
    )
    rep = api_as(users.rep)

    detail = rep.get(f"/leads/{rons_lead.pk}").json()
    assert (detail["opportunity_amount"], detail["won_amount"], detail["currency"]) == (
        "12500.00",
        None,
        "EUR",
    )
    (item,) = rep.get("/leads").json()["items"]
    assert (item["opportunity_amount"], item["currency"]) == ("12500.00", "EUR")


def test_a_lead_without_its_own_currency_is_in_the_reporting_currency(
    rons_lead, users, api_as, settings
):
    settings.REFINERY_REPORTING_CURRENCY = "CHF"
    detail = api_as(users.rep).get(f"/leads/{rons_lead.pk}").json()
    assert (detail["opportunity_amount"], detail["currency"]) == (None, "CHF")


def test_setting_the_deal_value_answers_the_lead_with_the_change_on_its_timeline(
    rons_lead, users, api_as
):
    rep = api_as(users.rep)

    answer = rep.post(
        f"/leads/{rons_lead.pk}/amount", {"opportunity_amount": "12500.50", "currency": "gbp"}
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["opportunity_amount"], body["currency"]) == ("12500.50", "GBP")
    (event,) = [e for e in body["timeline"] if e["kind"] == "amount"]
    assert event["actor"] == "ron"
    assert event["data"]["changes"]["opportunity_amount"] == {"from": None, "to": "12500.50"}

    # A number works too; only what is given changes, and the same value again records nothing.
    again = rep.post(f"/leads/{rons_lead.pk}/amount", {"opportunity_amount": 12500.5}).json()
    assert again["currency"] == "GBP"
    assert [e["kind"] for e in again["timeline"]].count("amount") == 1
    cleared = rep.post(f"/leads/{rons_lead.pk}/amount", {"opportunity_amount": None}).json()
    assert cleared["opportunity_amount"] is None and cleared["currency"] == "GBP"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"opportunity_amount": -1}, "opportunity_amount", "must be 0 or more"),
        ({"opportunity_amount": "-1"}, "opportunity_amount", "must be a number or decimal text"),
        ({"opportunity_amount": 1e13}, "opportunity_amount", "is too large"),
        ({"opportunity_amount": "1234567890123"}, "opportunity_amount", "decimal text"),
        ({"opportunity_amount": 0.001}, "opportunity_amount", "more than 2 decimal places"),
        ({"opportunity_amount": "12,500"}, "opportunity_amount", "decimal text"),
        ({"opportunity_amount": True}, "opportunity_amount", "must be a number"),
        ({"currency": "ABC"}, "currency", "'ABC' is not an ISO 4217 currency code"),
        ({"currency": "EURO"}, "currency", "at most 3"),
        ({"currency": "E\x00R"}, "currency", "must not contain NUL characters"),
        ({"won_amount": "10"}, "won_amount", "only a won lead has an amount won"),
        ({"amount": "10"}, "amount", "unknown field 'amount'"),
    ],
)
def test_bad_values_are_refused_with_the_field(rons_lead, users, api_as, body, field, message):
    refused = errors(api_as(users.rep).post(f"/leads/{rons_lead.pk}/amount", body))
    assert message in refused[field], refused
    rons_lead.refresh_from_db()
    assert (rons_lead.opportunity_amount, rons_lead.currency) == (None, "")


def test_only_those_who_see_the_lead_may_set_it(rons_lead, users, api_as):
    body = {"opportunity_amount": "10"}
    assert api_as(users.other_rep).post(f"/leads/{rons_lead.pk}/amount", body).status_code == 404
    read_only = api_as(users.rep, ["leads:read"])
    assert read_only.post(f"/leads/{rons_lead.pk}/amount", body).status_code == 403
    assert api_as(users.manager).post(f"/leads/{rons_lead.pk}/amount", body).status_code == 200


def test_a_win_is_won_at_the_expected_value_or_at_the_amount_given(make_lead, users, api_as):
    rep = api_as(users.rep)
    first = opportunity(
        lead_assign(lead=make_lead(), owner_user=users.rep, actor=SYSTEM), users.rep
    )
    rep.post(f"/leads/{first.pk}/amount", {"opportunity_amount": "40000"})
    won = rep.post(f"/leads/{first.pk}/dispose", {"reason": "won"})
    assert won.status_code == 200, won.content
    assert (won.json()["stage"], won.json()["won_amount"]) == ("won", "40000.00")

    second = opportunity(
        lead_assign(lead=make_lead(), owner_user=users.rep, actor=SYSTEM), users.rep
    )
    won = rep.post(
        f"/leads/{second.pk}/dispose", {"reason": "won", "won_amount": 38000, "currency": "EUR"}
    ).json()
    assert (won["won_amount"], won["opportunity_amount"], won["currency"]) == (
        "38000.00",
        None,
        "EUR",
    )


def test_an_amount_with_a_loss_is_refused_and_the_lead_stays_open(make_lead, users, api_as):
    lead = opportunity(lead_assign(lead=make_lead(), owner_user=users.rep, actor=SYSTEM), users.rep)
    refused = errors(
        api_as(users.rep).post(
            f"/leads/{lead.pk}/dispose", {"reason": "lost_price", "won_amount": "100"}
        )
    )
    assert "closing as Won" in refused["won_amount"]
    assert Lead.objects.get(pk=lead.pk).stage == "opportunity"
