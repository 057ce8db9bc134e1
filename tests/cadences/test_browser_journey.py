"""In Chromium: a rep accepts a new lead on the Today page, works the cadence over three
simulated weeks, logs every outcome, is refused 'no response' until the persistence rule is
met, and closes the lead; the timeline shows every touch."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadrefinery.cadences.models import Enrollment
from leadrefinery.cadences.selectors import template_steps
from leadrefinery.leads.models import Lead, Touch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTCOMES = ["No answer", "Voicemail", "No answer", "Wrong number", "Voicemail", "No answer"]


def current_step(lead: Lead):
    enrollment = Enrollment.objects.get(lead=lead, status="active")
    return template_steps(enrollment.template_id)[enrollment.step_position - 1]


def try_no_response(page, live_server, lead: Lead) -> None:
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    stage_form = page.locator("#action-stage")
    stage_form.get_by_label("Move to").select_option(label="Lost")
    stage_form.get_by_label("Reason (required)").select_option(
        label="No response after persistent follow-up"
    )
    stage_form.get_by_role("button", name="Save stage").click()


def test_a_rep_works_a_lead_through_the_cadence_and_closes_it(
    page, live_server, login, ron, sales_ready, frozen_now
):
    login(ron)
    page.get_by_role("link", name="Today").click()
    task = page.locator(f"#task-{sales_ready.pk}")
    expect(task).to_contain_text("Olga Brandt")
    page.wait_for_load_state("load")  # the new page's deferred scripts have bound the keys
    task.focus()
    page.keyboard.press("a")  # keyboard: accept the focused task
    expect(task).to_contain_text("Accepted. First step: Step 1 of 11: Call 1")

    calls = 0
    for done in range(10):
        lead = Lead.objects.get(pk=sales_ready.pk)
        frozen_now.set(max(frozen_now.at, lead.next_action_due_at))
        step = current_step(lead)
        page.goto(f"{live_server.url}/today/")
        task = page.locator(f"#task-{lead.pk}")
        expect(task).to_contain_text(f"Step {step.position} of 11")
        if step.channel == "call":
            outcome = OUTCOMES[calls]
            if calls == 1:
                task.focus()
                page.keyboard.press("2")  # keyboard: the second outcome, voicemail
            else:
                task.get_by_role("button", name=outcome).click()
            calls += 1
        else:
            task.get_by_role("button", name="Send email").click()
        expect(task).not_to_contain_text(f"Step {step.position} of 11:")
        if done == 4:
            # Five touches in five days: "no response" is refused, and says what is missing.
            try_no_response(page, live_server, lead)
            expect(page.locator("#action-stage")).to_contain_text("(5 so far, 1 to go)")
            expect(page.locator("#cadence-panel")).to_contain_text(
                "'No response' allowed after 1 more touch"
            )
            assert Lead.objects.get(pk=lead.pk).stage == "working"

    lead = Lead.objects.get(pk=sales_ready.pk)
    assert lead.sales_touch_count == 10
    assert (frozen_now.at - lead.first_sales_touch_at).days >= 14  # three weeks of work
    try_no_response(page, live_server, lead)
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Working → Lost")
    expect(timeline).to_contain_text("No response after persistent follow-up")
    expect(timeline).to_contain_text("Cadence stopped")
    # Every touch is on the page: the inquiry and the ten calls and emails, with outcomes.
    touches = page.locator("#touches tbody tr")
    expect(touches).to_have_count(11)
    expect(page.locator("#touches")).to_contain_text("Wrong number")
    expect(page.locator("#touches")).to_contain_text("Sent")
    assert Touch.objects.filter(lead=lead, is_sales=True).count() == 10
    assert timeline.locator("li.event-touch").count() == 10
    assert Lead.objects.get(pk=lead.pk).disposition_id == "lost_no_response"
