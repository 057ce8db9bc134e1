"""In Chromium: an admin deactivates a rep. A confirmation first says how many open leads will
move and where (by the rules, now), warning about a queue nobody works; the result then says
where each group went."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead
from leadrefinery.leads.services import lead_assign
from leadrefinery.routing.models import RoutingRule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_deactivation_is_confirmed_and_says_where_the_leads_went(
    page, live_server, login, users, make_lead, frozen_now
):
    RoutingRule.objects.create(
        name="US to East",
        order=10,
        conditions=[{"field": "country", "op": "equals", "value": "US"}],
        target_kind="team",
        target_team=users.rep.team,
        created_at=T0,
        updated_at=T0,
    )
    users.manager.is_active = False  # only rita is left in East to take leads
    users.manager.save()
    system = Actor.system("test")
    us = [
        lead_assign(lead=make_lead(country="US"), owner_user=users.rep, actor=system)
        for _ in range(2)
    ]
    german = lead_assign(lead=make_lead(country="DE"), owner_user=users.rep, actor=system)

    login(users.admin)
    page.goto(f"{live_server.url}/routing/team/")
    page.get_by_role("link", name="Deactivate ron…").click()

    plan = page.locator("#deactivate-plan")
    expect(plan).to_contain_text("3 open leads will move")
    expect(plan.locator("tr.destination", has_text="rita")).to_contain_text("2")
    unassigned = plan.locator("tr.destination.unstaffed")
    expect(unassigned).to_contain_text("Unassigned")
    expect(unassigned).to_contain_text("Nobody active works this queue")
    users.rep.refresh_from_db()
    assert users.rep.is_active, "the confirmation page changes nothing"
    assert Lead.objects.filter(owner_user=users.rep).count() == 3

    plan.get_by_label("Reason").fill("left the company")
    plan.get_by_role("button", name="Deactivate ron and move 3 leads").click()
    page.wait_for_url(f"{live_server.url}/routing/team/")
    flash = page.locator(".flash")
    expect(flash).to_contain_text(
        "ron is deactivated; 3 open leads reassigned through the rules: "
        "2 to rita, 1 to the Unassigned queue."
    )
    expect(flash.locator(".flash-warning")).to_contain_text("Nobody active works the Unassigned")
    for lead in us:
        lead.refresh_from_db()
        assert lead.owner_user == users.rep2
    german.refresh_from_db()
    assert german.owner_queue.slug == "unassigned"
