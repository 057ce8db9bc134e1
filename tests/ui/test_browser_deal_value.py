"""In Chromium: a rep gives an opportunity its deal value, a typo is shown next to the field,
and closing as Won (htmx: the amount field follows the chosen stage) takes the expected value."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.services import lead_assign, lead_transition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_sets_the_deal_value_and_wins_at_it(page, live_server, login, users, make_lead):
    lead = make_lead(first_name="Olga", last_name="Brandt", company="Brandt Maschinenbau")
    lead = lead_assign(lead=lead, owner_user=users.rep, actor=Actor.system("test"))
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=Actor.system("test"))
    lead = lead_transition(lead=lead, to_stage="working", actor=Actor.of(users.rep))
    lead = lead_transition(lead=lead, to_stage="opportunity", actor=Actor.of(users.rep))
    login(users.rep)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.wait_for_load_state("load")

    deal = page.locator("#deal-value")
    deal.get_by_text("Edit deal value").click()
    deal.get_by_label("Expected value").fill("12.500,00 €")
    deal.get_by_role("button", name="Save deal value").click()
    expect(page.locator("#deal-value .flash")).to_contain_text("Deal value saved.")
    expect(page.locator("#deal-value .deal-expected")).to_have_text("12,500.00 EUR")
    expect(page.locator("#timeline")).to_contain_text("Expected value: 12,500.00 EUR")

    deal = page.locator("#deal-value")
    deal.get_by_text("Edit deal value").click()
    deal.get_by_label("Expected value").fill("-300")
    deal.get_by_role("button", name="Save deal value").click()
    expect(page.locator("#deal-value .errorlist")).to_contain_text("'-300' must be 0 or more")
    # htmx wires up the swapped-in forms when they settle (20 ms after the swap): a choice
    # made before that sent no request for the stage's reasons.
    page.wait_for_function("() => !document.querySelector('.htmx-settling, .htmx-request')")

    stage = page.locator("#action-stage")
    stage.get_by_label("Move to").select_option("won")
    expect(stage.get_by_label("Amount won (optional)")).to_be_visible()
    expect(stage).to_contain_text("Empty: the expected value, 12,500.00 EUR.")
    stage.get_by_label("Reason (required)").select_option("won")
    stage.get_by_role("button", name="Save stage").click()

    expect(page.locator(".flash").first).to_contain_text("Moved to Won at 12,500.00 EUR.")
    expect(page.locator("#deal-value .deal-won")).to_have_text("12,500.00 EUR")
    lead.refresh_from_db()
    assert (lead.stage, lead.won_amount, lead.currency) == ("won", Decimal("12500.00"), "EUR")
