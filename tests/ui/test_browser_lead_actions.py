"""In Chromium: a rep moves a lead through the lead page and the timeline records it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.services import lead_assign, lead_transition

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def rons_working_lead(make_lead, users):
    lead = make_lead(first_name="Olga", last_name="Brandt", company="Brandt Logistics")
    lead_assign(lead=lead, owner_user=users.rep, actor=Actor.system("test"))
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=Actor.system("test"))
    return lead_transition(lead=lead, to_stage="working", actor=Actor.of(users.rep))


def test_a_rep_closes_a_lead_with_a_reason_and_no_response_is_refused(
    page, live_server, login, users, rons_working_lead
):
    login(users.rep)
    page.get_by_role("link", name="Olga Brandt").click()
    expect(page.locator("#lead-main")).to_contain_text("0 of 6 touches, 0 of 14 days")
    # htmx (a deferred script) must have bound the form before the change event fires; the
    # text above can be on screen before that, and a change fired earlier is lost.
    page.wait_for_load_state("load")

    stage_form = page.locator("#action-stage")
    stage_form.get_by_label("Move to").select_option(label="Lost")
    # htmx swaps in the reasons for Lost only.
    reason = stage_form.get_by_label("Reason (required)")
    expect(reason.locator("option", has_text="Price")).to_have_count(1)
    expect(reason.locator("option", has_text="Not a fit")).to_have_count(0)

    reason.select_option(label="No response after persistent follow-up")
    stage_form.get_by_role("button", name="Save stage").click()
    expect(page.locator("#action-stage")).to_contain_text(
        "needs at least 6 sales touches before 'no response' (0 so far, 6 to go)"
    )
    # The refusal names the reason as the rep chose it, never by its internal code.
    expect(page.locator("#action-stage")).to_contain_text(
        "'No response after persistent follow-up' is not allowed yet"
    )
    expect(page.locator("#action-stage")).not_to_contain_text("lost_no_response")
    rons_working_lead.refresh_from_db()
    assert rons_working_lead.stage == "working"

    stage_form = page.locator("#action-stage")
    stage_form.get_by_label("Reason (required)").select_option(label="Lost to a competitor")
    stage_form.get_by_label("Note").fill("Signed with the incumbent for two years")
    stage_form.get_by_role("button", name="Save stage").click()

    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Working → Lost")
    expect(timeline).to_contain_text("Lost to a competitor")
    expect(timeline).to_contain_text("Signed with the incumbent for two years")
    expect(page.locator(".flash")).to_contain_text("Moved to Lost.")
    rons_working_lead.refresh_from_db()
    assert (rons_working_lead.stage, rons_working_lead.disposition_id) == (
        "lost",
        "lost_competitor",
    )


def test_a_rep_logs_a_touch_and_the_persistence_progress_moves(
    page, live_server, login, users, rons_working_lead
):
    login(users.rep)
    page.goto(f"{live_server.url}/leads/{rons_working_lead.pk}/")
    touch = page.locator("#action-touch")
    touch.get_by_label("Channel").select_option(label="Call")
    touch.get_by_label("Outcome").select_option(label="Left voicemail")
    touch.get_by_role("button", name="Log touch").click()
    expect(page.locator("#lead-main")).to_contain_text("1 of 6 touches")
    expect(page.locator("#touches")).to_contain_text("Left voicemail")


def test_filtering_the_list_updates_the_table_and_the_address(
    page, live_server, login, users, rons_working_lead, make_lead
):
    make_lead(first_name="Pavel", last_name="Novak", company="Novak Steel")
    login(users.admin)
    table = page.locator("#lead-table")
    expect(table).to_contain_text("Olga Brandt")
    expect(table).to_contain_text("Pavel Novak")
    page.get_by_label("Search").fill("novak")
    expect(table).not_to_contain_text("Olga Brandt")
    expect(table).to_contain_text("Pavel Novak")
    page.wait_for_url("**/leads/?*q=novak*")
    page.get_by_label("Search").fill("")
    page.get_by_label("Stage").select_option(label="Working")
    expect(table).to_contain_text("Olga Brandt")
    expect(table).not_to_contain_text("Pavel Novak")
    # The address can be shared or reloaded: the same filters apply without JavaScript.
    page.reload()
    expect(page.get_by_label("Stage")).to_have_value("working")
    expect(page.locator("#lead-table")).not_to_contain_text("Pavel Novak")
