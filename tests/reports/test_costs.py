"""Costs and exchange rates: marketers and admins keep them on /reports/costs and over the
API, every refusal names its field, nothing is deleted, and Source ROI reads them at once."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from leadrefinery.leads.models import Campaign, Source
from leadrefinery.reports.models import CostEntry, CurrencyRate, LeadFact

pytestmark = pytest.mark.django_db


@pytest.fixture
def sources(db):
    web = Source.objects.get_or_create(name="Web")[0]
    show = Source.objects.get_or_create(name="Show")[0]
    spring = Campaign.objects.create(source=web, name="Spring search")
    fair = Campaign.objects.create(source=show, name="Hanover fair")
    return {"web": web, "show": show, "spring": spring, "fair": fair}


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def entry(sources, **changes) -> dict[str, str]:
    data = {
        "source": str(sources["web"].pk),
        "campaign": str(sources["spring"].pk),
        "starts_on": "2026-03-01",
        "ends_on": "2026-03-31",
        "amount": "1200.50",
        "currency": "",
        "note": "March search budget",
    }
    return {**data, **changes}


@pytest.mark.parametrize("role, status", [("rep", 403), ("manager", 403), ("marketer", 200)])
def test_the_costs_page_is_for_marketers_and_admins(users, sources, role, status):
    client = as_user(getattr(users, role))

    assert client.get("/reports/costs").status_code == status
    response = client.post("/reports/costs/add", entry(sources))
    assert response.status_code == (302 if status == 200 else 403)
    assert client.get("/reports/costs").status_code == status
    assert as_user(users.admin).get("/reports/costs").status_code == 200
    assert CostEntry.objects.count() == (1 if status == 200 else 0)


def test_a_marketer_adds_a_cost_and_sees_it_listed(users, sources, frozen_now):
    client = as_user(users.marketer)
    response = client.post("/reports/costs/add", entry(sources, currency="eur"), follow=True)

    html = response.content.decode()
    assert "Recorded 1,200.50 EUR on Web from 2026-03-01 to 2026-03-31." in html
    cost = CostEntry.objects.get()
    assert (cost.source, cost.campaign, cost.amount, cost.currency) == (
        sources["web"],
        sources["spring"],
        Decimal("1200.50"),
        "EUR",
    )
    assert cost.created_by == users.marketer and cost.created_at == frozen_now.at
    assert "Spring search" in html and "1,200.50" in html and "March search budget" in html


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"ends_on": "2026-02-28"}, "ends_on", "the last day is before the first day"),
        ({"amount": "-5"}, "amount", "must be 0 or more"),
        ({"amount": "12.345"}, "amount", "Ensure that there are no more than 2 decimal places"),
        ({"currency": "XYZ"}, "currency", "not an ISO 4217 currency code"),
        ({"currency": "EURO"}, "currency", "at most 3 characters"),
        ({"campaign": "FAIR"}, "campaign", "is a campaign of another source"),
        ({"starts_on": ""}, "starts_on", "This field is required"),
        ({"source": ""}, "source", "This field is required"),
    ],
)
def test_a_cost_that_does_not_hold_is_refused_naming_its_field(
    users, sources, changes, field, message
):
    if changes.get("campaign") == "FAIR":
        changes = {"campaign": str(sources["fair"].pk)}
    response = as_user(users.marketer).post("/reports/costs/add", entry(sources, **changes))

    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors
    assert any(message in e for e in form.errors[field]), form.errors
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert CostEntry.objects.count() == 0


def test_voiding_keeps_the_entry_listed_and_leaves_it_out_of_source_roi(users, sources):
    client = as_user(users.marketer)
    client.post("/reports/costs/add", entry(sources, campaign="", amount="900"))
    cost = CostEntry.objects.get()
    roi = Client()
    roi.force_login(users.manager)

    def cost_headline() -> str:
        html = roi.get("/reports/source-roi?from=2026-03&to=2026-03").content.decode()
        return html.split("Cost (USD)</p>", 1)[1].split("</p>", 1)[0]

    assert "900 USD" in cost_headline()
    assert as_user(users.rep).post(f"/reports/costs/{cost.pk}/void").status_code == 403
    response = client.post(f"/reports/costs/{cost.pk}/void", follow=True)

    assert "it no longer counts in the reports" in response.content.decode()
    cost.refresh_from_db()
    assert cost.voided_at is not None and CostEntry.objects.count() == 1
    assert "Voided" in response.content.decode()
    assert "0 USD" in cost_headline()
    assert client.post("/reports/costs/999999/void").status_code == 404


def test_rates_are_set_by_marketers_and_admins_and_count_at_once(users, sources):
    client = as_user(users.admin)
    client.post("/reports/costs/add", entry(sources, campaign="", amount="1000", currency="GBP"))
    roi = as_user(users.marketer)
    html = roi.get("/reports/source-roi?from=2026-03&to=2026-03").content.decode()
    assert "Costs in GBP are left out: they have no exchange rate." in html

    response = roi.post("/reports/costs/rates", {"currency": "gbp", "rate": "1.25"}, follow=True)
    assert "1 GBP = 1.25 USD" in response.content.decode()
    assert CurrencyRate.objects.get().rate == Decimal("1.25")
    html = roi.get("/reports/source-roi?from=2026-03&to=2026-03").content.decode()
    assert "1,250 USD" in html and "left out" not in html

    roi.post("/reports/costs/rates", {"currency": "GBP", "rate": "1.30"})
    assert CurrencyRate.objects.get().rate == Decimal("1.30")  # one rate per currency


@pytest.mark.parametrize(
    "data, field",
    [
        ({"currency": "USD", "rate": "1"}, "currency"),  # the reporting currency
        ({"currency": "QQQ", "rate": "1"}, "currency"),
        ({"currency": "EUR", "rate": "0"}, "rate"),
        ({"currency": "EUR", "rate": "-1"}, "rate"),
        ({"currency": "EUR", "rate": "abc"}, "rate"),
    ],
)
def test_a_rate_that_does_not_hold_is_refused(users, data, field):
    response = as_user(users.marketer).post("/reports/costs/rates", data)

    assert response.status_code == 400
    assert field in response.context["rate_form"].errors
    assert CurrencyRate.objects.count() == 0


def test_a_managers_cannot_set_rates(users):
    response = as_user(users.manager).post("/reports/costs/rates", {"currency": "EUR", "rate": "1"})
    assert response.status_code == 403


def test_a_new_rate_counts_the_leads_with_amounts_in_it_again(world, users):
    from leadrefinery.leads.models import Lead

    Lead.objects.filter(pk=world.l1.pk).update(currency="EUR")
    as_user(users.marketer).post("/reports/costs/rates", {"currency": "EUR", "rate": "1.1"})

    assert LeadFact.objects.get(lead_id=world.l1.pk).due_at is not None
    assert LeadFact.objects.get(lead_id=world.l2.pk).due_at is None  # no amount


# --- The API -----------------------------------------------------------------------------------


def post(token: str, path: str, body: dict):
    return Client().post(
        f"/api/v1{path}",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def get(token: str, path: str, params: dict | None = None):
    return Client().get(
        f"/api/v1{path}", params or {}, headers={"Authorization": f"Bearer {token}"}
    )


def api_entry(sources, **changes):
    body = {
        "source_id": sources["show"].pk,
        "campaign_id": sources["fair"].pk,
        "starts_on": "2026-04-10",
        "ends_on": "2026-04-12",
        "amount": 18500,
        "currency": "EUR",
        "note": "Stand and travel",
    }
    return {**body, **changes}


def test_a_marketer_records_lists_and_voids_costs_over_the_api(users, sources, token_for):
    token = token_for(users.marketer)
    created = post(token, "/costs", api_entry(sources))

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["source"] == "Show" and body["campaign"] == "Hanover fair"
    assert body["amount"] == "18500.00" and body["currency"] == "EUR"
    assert body["created_by"] == users.marketer.username and body["voided_at"] is None
    assert [c["id"] for c in get(token, "/costs").json()] == [body["id"]]

    voided = post(token, f"/costs/{body['id']}/void", {})
    assert voided.status_code == 200 and voided.json()["voided_at"] is not None
    again = post(token, f"/costs/{body['id']}/void", {})
    assert again.json()["voided_at"] == voided.json()["voided_at"]
    assert get(token, "/costs").json() == []
    assert [c["id"] for c in get(token, "/costs", {"voided": "true"}).json()] == [body["id"]]
    assert post(token, "/costs/999999/void", {}).status_code == 404


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"ends_on": "2026-04-01"}, "ends_on"),
        ({"amount": -1}, "amount"),
        ({"currency": "ABC"}, "currency"),
        ({"campaign_id": "SPRING"}, "campaign_id"),
        ({"source_id": 999999}, "source_id"),
        ({"starts_on": 20260410}, "starts_on"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_the_api_refuses_a_cost_naming_the_field(users, sources, token_for, changes, field):
    if changes.get("campaign_id") == "SPRING":
        changes = {"campaign_id": sources["spring"].pk}  # a campaign of Web, not of Show
    response = post(token_for(users.admin), "/costs", api_entry(sources, **changes))

    assert response.status_code == 422, response.content
    assert field in {d["loc"][-1] for d in response.json()["detail"]}
    assert CostEntry.objects.count() == 0


def test_only_marketers_and_admins_write_costs_over_the_api(users, sources, token_for):
    manager = token_for(users.manager)
    assert post(manager, "/costs", api_entry(sources)).status_code == 403
    cost = CostEntry.objects.create(
        source=sources["web"],
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 3, 1),
        amount=Decimal("10"),
        created_at=date(2026, 3, 1).isoformat() + "T00:00:00Z",
    )
    assert post(manager, f"/costs/{cost.pk}/void", {}).status_code == 403
    assert get(manager, "/costs").status_code == 200  # Source ROI shows costs to all roles
    read_only = token_for(users.marketer, ["leads:read"])
    assert post(read_only, "/costs", api_entry(sources)).status_code == 403


def test_cost_entries_and_rates_are_in_the_admin(users):
    users.admin.is_staff = True
    users.admin.save()
    client = as_user(users.admin)

    page = client.get("/admin/").content.decode()
    assert "Cost entries" in page and "Currency rates" in page
    assert client.get("/admin/reports/costentry/").status_code == 200
    assert client.get("/admin/reports/currencyrate/").status_code == 200


def test_entries_recorded_by_nobody_in_particular_are_listed(world, users):
    # The world's costs were loaded without a user (as an import or the admin would).
    html = as_user(users.marketer).get("/reports/costs").content.decode()

    assert html.count('class="voided"') == 0
    assert "3,000.00" in html and "1,000.00" in html
