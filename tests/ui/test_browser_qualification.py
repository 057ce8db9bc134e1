"""In Chromium: the qualifying center records need, budget, authority and timeline on the lead
page, and the timeline says who changed what, and when."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import LeadEvent
from leadrefinery.leads.services import lead_assign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_records_the_qualification_on_the_lead_page(
    page, live_server, login, users, make_lead
):
    lead = make_lead(first_name="Olga", last_name="Brandt", budget="unknown")
    lead_assign(lead=lead, owner_user=users.rep, actor=Actor.system("test"))
    login(users.rep)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.wait_for_load_state("load")

    qualification = page.locator("#qualification")
    qualification.get_by_text("Edit qualification").click()
    qualification.get_by_label("Need").fill("Replace three spreadsheets with one CRM")
    qualification.get_by_label("Budget").fill("40k EUR approved")
    qualification.get_by_label("Authority").fill("CFO signs")
    qualification.get_by_label("Timeline").fill("Decide by June")
    qualification.get_by_role("button", name="Save qualification").click()

    expect(page.locator(".flash")).to_contain_text("Qualification saved.")
    qualification = page.locator("#qualification")
    expect(qualification.locator(".q-budget")).to_have_text("40k EUR approved")
    expect(qualification.locator(".q-timeline")).to_have_text("Decide by June")
    expect(qualification.locator(".qualified-by")).to_contain_text("Ron Rep")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Qualification updated")
    expect(timeline).to_contain_text("Budget: 40k EUR approved")

    lead.refresh_from_db()
    assert (lead.need, lead.budget, lead.authority, lead.timeline) == (
        "Replace three spreadsheets with one CRM",
        "40k EUR approved",
        "CFO signs",
        "Decide by June",
    )
    event = lead.events.get(kind=LeadEvent.Kind.QUALIFIED)
    assert event.actor == users.rep
    assert event.data["changes"]["budget"] == {"from": "unknown", "to": "40k EUR approved"}
