"""In Chromium: a rep sees the company's own fields on the lead page and edits them; a value
that is not of the field's kind is refused next to the field; the lead list filters on one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.custom_field_services import custom_field_create, lead_custom_set
from leadrefinery.leads.models import LeadEvent
from leadrefinery.leads.services import lead_assign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_edits_custom_fields_on_the_lead_page(page, live_server, login, users, make_lead):
    custom_field_create(
        name="fleet_size", label="Fleet size", kind="number", help_text="trucks on the road"
    )
    custom_field_create(
        name="installed_product", label="Installed product", kind="choice",
        choices=["Route Planner", "Fleet Tracker"],
    )  # fmt: skip
    lead = make_lead(first_name="Olga", last_name="Brandt")
    lead_assign(lead=lead, owner_user=users.rep, actor=Actor.system("test"))
    lead_custom_set(lead=lead, changes={"fleet_size": 40}, actor=Actor.system("import"))
    login(users.rep)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.wait_for_load_state("load")

    box = page.locator("#custom-fields")
    expect(box).to_contain_text("Fleet size")
    expect(box.locator(".custom-value").first).to_have_text("40")
    box.get_by_text("Edit fields").click()
    box.get_by_label("Fleet size").fill("a lot")
    box.get_by_role("button", name="Save fields").click()
    box = page.locator("#custom-fields")
    expect(box).to_contain_text("'a lot' is not a number")

    box.get_by_label("Fleet size").fill("1,250")
    box.get_by_label("Installed product").select_option("Fleet Tracker")
    box.get_by_role("button", name="Save fields").click()
    expect(page.locator(".flash")).to_contain_text("Fields saved.")
    box = page.locator("#custom-fields")
    expect(box.locator(".custom-value").first).to_have_text("1250")
    expect(page.locator("#timeline")).to_contain_text("Installed product: Fleet Tracker")

    lead.refresh_from_db()
    assert lead.custom == {"fleet_size": 1250, "installed_product": "Fleet Tracker"}
    event = lead.events.filter(kind=LeadEvent.Kind.QUALIFIED).latest("pk")
    assert event.actor == users.rep
    assert event.data["custom"]["fleet_size"] == {"from": 40, "to": 1250}


def test_the_lead_list_filters_on_a_custom_field(page, live_server, login, users, make_lead):
    custom_field_create(name="fleet_size", label="Fleet size", kind="number")
    big, small = make_lead(company="Big Haulers"), make_lead(company="Small Vans")
    lead_custom_set(lead=big, changes={"fleet_size": 300}, actor=Actor.system("import"))
    lead_custom_set(lead=small, changes={"fleet_size": 4}, actor=Actor.system("import"))
    login(users.admin)
    page.goto(f"{live_server.url}/leads/")
    page.wait_for_load_state("load")
    page.get_by_label("Field").select_option("fleet_size")
    page.get_by_label("is", exact=True).fill("300")
    page.get_by_label("is", exact=True).press("Enter")
    page.wait_for_url("**field=fleet_size**")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Big Haulers")
