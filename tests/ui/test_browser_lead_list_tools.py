"""In Chromium: a manager sorts the list by a column, ticks leads and closes them in bulk,
and reads per lead what was done; at 390 px the list fits the screen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead
from leadrefinery.leads.services import lead_assign, lead_set_next_action

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SYSTEM = Actor.system("test")


def test_a_manager_sorts_ticks_and_closes_leads_in_bulk(
    page, live_server, login, users, make_lead, frozen_now
):
    leads = []
    for name, hours in (("Ames", 30), ("Berg", -3), ("Cruz", 5)):
        frozen_now.advance(timedelta(minutes=1))
        lead = lead_assign(lead=make_lead(last_name=name), owner_user=users.rep, actor=SYSTEM)
        lead_set_next_action(
            lead=lead,
            action=f"Call {name}",
            due_at=frozen_now.at + timedelta(hours=hours),
            actor=SYSTEM,
        )
        leads.append(lead)
    login(users.manager)
    page.wait_for_load_state("load")
    table = page.locator("#lead-table")
    table.get_by_role("link", name="Next action due").click()
    page.wait_for_url("**/leads/?*sort=due*")
    rows = table.locator("tbody tr")
    expect(rows.nth(0)).to_contain_text("Berg")
    expect(rows.nth(0)).to_contain_text("Overdue")
    expect(rows.nth(2)).to_contain_text("Ames")

    rows.nth(0).get_by_role("checkbox").check()
    rows.nth(1).get_by_role("checkbox").check()
    bulk = page.locator("#bulk-form")
    bulk.get_by_label("With the selected leads").select_option(label="Close with a reason")
    bulk.get_by_label("Reason").select_option(label="Not a fit")
    bulk.get_by_role("button", name="Apply to selected").click()

    results = page.locator("#bulk-results")
    expect(results).to_contain_text("Close with a reason: 2 of 2 leads changed.")
    expect(results).to_contain_text("Closed as Disqualified (Not a fit)")
    # Back on the same sorted list; the closed leads left the open list.
    expect(page).to_have_url(f"{live_server.url}/leads/?sort=due")
    expect(page.locator("#lead-table tbody tr")).to_have_count(1)
    assert sorted(Lead.objects.values_list("stage", flat=True)) == [
        "disqualified",
        "disqualified",
        "inquiry",
    ]

    page.set_viewport_size({"width": 390, "height": 800})
    page.reload()
    expect(page.locator("#lead-table")).to_contain_text("Ames")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
