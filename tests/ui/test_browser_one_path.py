"""In Chromium: an action on the lead page takes the same path as the API's action, so the
result is the same whichever a user takes (recycle, dispose, accept)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, LeadEvent
from leadrefinery.leads.services import lead_assign, lead_transition
from leadrefinery.nurture import domain as nurture_domain
from leadrefinery.nurture.services import lead_snapshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SYSTEM = Actor.system("test")


def test_a_lead_recycled_from_the_page_goes_to_marketing_and_nurture_takes_it(
    page, live_server, login, users, make_lead
):
    # A rep took a qualifying lead (as "Next lead" does) and finds no project this year.
    lead = make_lead(first_name="Nora", last_name="Quill", company="Quill Freight")
    lead = lead_assign(lead=lead, owner_user=users.rep, actor=SYSTEM)
    lead = lead_transition(lead=lead, to_stage="qualifying", actor=Actor.of(users.rep))

    login(users.rep)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.wait_for_load_state("load")
    form = page.locator("#action-stage")
    form.get_by_label("Move to").select_option(label="Nurture")
    form.locator("select[name=reason]").select_option(label="Not ready to buy yet")
    form.get_by_role("button", name="Save stage").click()

    # The lead left the rep's sight: it belongs to the marketing queue now.
    expect(page.locator(".flash").first).to_contain_text(
        "Moved to Nurture. The Marketing nurture queue owns it now."
    )
    lead = Lead.objects.select_related("owner_queue").get(pk=lead.pk)
    assert (lead.stage, lead.owner_user_id, lead.owner_queue.slug) == (
        "nurture",
        None,
        "marketing",
    )
    assert LeadEvent.objects.filter(lead=lead, kind="assigned").latest("id").data["to"]
    decision = nurture_domain.entry_decision(lead_snapshot(lead), ["new_inquiry", "recycled"])
    assert decision.ok, decision.reasons


def test_working_a_sales_ready_lead_from_the_page_accepts_it_and_starts_the_cadence(
    users, make_lead, client_for
):
    lead = make_lead(first_name="Aki", last_name="Sato")
    lead = lead_assign(lead=lead, owner_user=users.rep, actor=SYSTEM)
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=SYSTEM)
    client = client_for(users.rep)
    response = client.post(f"/leads/{lead.pk}/stage/", {"to_stage": "working"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.stage == "working" and lead.accepted_at is not None
    assert lead.next_action.startswith("Step 1 of")
    assert LeadEvent.objects.filter(lead=lead, kind="accepted").count() == 1


def test_closing_with_a_reason_of_another_stage_is_refused_on_the_page(
    users, make_lead, client_for
):
    lead = make_lead()
    lead = lead_assign(lead=lead, owner_user=users.rep, actor=SYSTEM)
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=SYSTEM)
    response = client_for(users.rep).post(
        f"/leads/{lead.pk}/stage/", {"to_stage": "lost", "reason": "dq_not_fit"}
    )
    assert response.status_code == 400
    assert "that reason is for Disqualified, not Lost" in response.content.decode()
    lead.refresh_from_db()
    assert lead.stage == "sales_ready"
