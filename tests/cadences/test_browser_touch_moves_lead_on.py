"""In Chromium: logging a touch moves the lead on. In a cadence the touch is the step due (the
cadence advances and sets the next action); without one the form asks for the next step, with
a sensible default. The confirmation shows next to the form the user just used, and the Today
card agrees with the cadence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from leadrefinery.cadences.models import Enrollment
from leadrefinery.cadences.services import lead_accept
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead
from leadrefinery.leads.services import lead_assign, lead_set_next_action, lead_transition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SYSTEM = Actor.system("test")


def test_a_call_logged_on_the_lead_page_is_the_cadence_step_and_today_agrees(
    page, live_server, login, ron, sales_ready, frozen_now
):
    lead = lead_accept(lead=sales_ready, actor=Actor.of(ron))
    login(ron)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.wait_for_load_state("load")
    box = page.locator("#action-touch")
    expect(box).to_contain_text("The cadence sets the next step")
    expect(box.get_by_label("Next step")).to_have_count(0)
    box.get_by_label("Channel").select_option(label="Call")
    box.get_by_label("Outcome").select_option(label="Left voicemail")
    box.get_by_role("button", name="Log touch").click()

    confirmation = page.locator("#action-touch .flash")
    expect(confirmation).to_contain_text("Call logged (left voicemail): step 1 of the cadence done")
    expect(confirmation).to_contain_text("Next: Step 2 of 11: Email 1: introduction, due")
    expect(confirmation).to_be_in_viewport()
    expect(page.locator("#cadence-panel")).to_contain_text("1 of 11 steps done")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits a phone
    enrollment = Enrollment.objects.get(lead=lead)
    assert (enrollment.steps_done, enrollment.step_position) == (1, 2)

    # The Today card is the email step: an email preview and a send button, no call outcomes.
    page.goto(f"{live_server.url}/today/")
    card = page.locator(f"#task-{lead.pk}")
    expect(card).to_contain_text("Step 2 of 11: Email 1: introduction")
    expect(card).to_contain_text("1 of 11 steps done")
    expect(card.get_by_role("button", name="Send email")).to_have_count(1)
    expect(card.get_by_role("button", name="Voicemail")).to_have_count(0)
    expect(card).not_to_contain_text("Overdue")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_without_a_cadence_the_form_asks_for_the_next_step_and_defaults_it(
    page, live_server, login, users, make_lead, frozen_now
):
    # A qualifying lead with a next action left two months overdue.
    lead = make_lead(first_name="Quinn", last_name="Baxter")
    lead = lead_assign(lead=lead, owner_user=users.rep, actor=SYSTEM)
    lead = lead_transition(lead=lead, to_stage="qualifying", actor=SYSTEM)
    lead_set_next_action(
        lead=lead, action="Qualify", due_at=frozen_now.at - timedelta(days=60), actor=SYSTEM
    )
    login(users.rep)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.wait_for_load_state("load")
    expect(page.locator("#lead-main")).to_contain_text("Overdue")
    box = page.locator("#action-touch")
    box.get_by_label("Channel").select_option(label="Call")
    box.get_by_label("Outcome").select_option(label="No answer")
    box.get_by_role("button", name="Log touch").click()
    # Monday 09:00: an unanswered call is tried again the next working day.
    expect(page.locator("#action-touch .flash")).to_contain_text(
        "Call logged (no answer). Next: Call again, due Tue Mar 3, 09:00."
    )
    expect(page.locator("#action-touch .flash")).to_be_in_viewport()
    expect(page.locator("#lead-main")).not_to_contain_text("Overdue")

    box = page.locator("#action-touch")
    box.get_by_label("Channel").select_option(label="Call")
    box.get_by_label("Outcome").select_option(label="Connected")
    box.get_by_label("Next step", exact=True).fill("Send the price list")
    box.get_by_label("Next step due").fill("2026-03-04T14:30")
    box.get_by_role("button", name="Log touch").click()
    expect(page.locator("#action-touch .flash")).to_contain_text(
        "Next: Send the price list, due Wed Mar 4, 14:30."
    )
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.next_action == "Send the price list"


def test_a_lead_accepted_a_moment_ago_is_due_not_overdue_and_feedback_says_what_is_next(
    page, live_server, login, ron, sales_ready, frozen_now
):
    login(ron)
    page.goto(f"{live_server.url}/today/")
    page.wait_for_load_state("load")
    card = page.locator(f"#task-{sales_ready.pk}")
    card.get_by_role("button", name="Accept").click()
    expect(card).to_contain_text("Accepted. First step: Step 1 of 11: Call 1")
    frozen_now.advance(timedelta(minutes=20))
    page.goto(f"{live_server.url}/today/")
    card = page.locator(f"#task-{sales_ready.pk}")
    expect(card).to_contain_text("Step 1 of 11: Call 1")
    expect(card).not_to_contain_text("Overdue")
    page.wait_for_load_state("load")
    card.get_by_role("button", name="No answer").click()
    expect(page.locator(f"#task-{sales_ready.pk}")).to_contain_text(
        "Step done (no answer): 1 of 11 cadence steps done. Next: Step 2 of 11: Email 1"
    )
