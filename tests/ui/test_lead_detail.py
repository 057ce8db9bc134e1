"""/leads/<id>/: the page, its timeline, and the actions (each through its service)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, LeadEvent, Queue, Touch
from leadrefinery.leads.services import lead_transition, touch_log

pytestmark = pytest.mark.django_db


def working(lead, rep):
    """Bring a lead to Working, as a rep who accepted it would."""
    lead = lead_transition(lead=lead, to_stage="sales_ready", actor=Actor.system("test"))
    return lead_transition(lead=lead, to_stage="working", actor=Actor.of(rep))


def test_a_rep_gets_404_for_a_lead_they_may_not_see(owned, users, client_for):
    client = client_for(users.rep)
    assert client.get(f"/leads/{owned.ron.pk}/").status_code == 200
    assert client.get(f"/leads/{owned.walt.pk}/").status_code == 404
    assert client.get("/leads/999999/").status_code == 404
    # Actions are guarded the same way: nothing happens to walt's lead.
    response = client.post(f"/leads/{owned.walt.pk}/note/", {"note": "peeking"})
    assert response.status_code == 404
    assert not LeadEvent.objects.filter(lead=owned.walt, kind="note").exists()


def test_the_manager_sees_team_leads_and_the_admin_all(owned, users, client_for):
    manager = client_for(users.manager)
    assert manager.get(f"/leads/{owned.rita.pk}/").status_code == 200
    assert manager.get(f"/leads/{owned.walt.pk}/").status_code == 404
    assert client_for(users.admin).get(f"/leads/{owned.walt.pk}/").status_code == 200


def test_the_page_shows_the_person_source_and_timeline(owned, users, client_for):
    html = client_for(users.rep).get(f"/leads/{owned.ron.pk}/").content.decode()
    assert "Rona Eastman" in html and "Acme Tools" in html and "API" in html
    assert "Lead created" in html and "New inquiry via api (API)" in html
    assert "Queue: Unassigned → Ron Rep" in html  # the assignment, with where it came from
    assert "System (intake:api)" in html


def test_a_stage_change_with_a_reason_lands_on_the_timeline(owned, users, client_for):
    lead = working(owned.ron, users.rep)
    client = client_for(users.rep)
    response = client.post(
        f"/leads/{lead.pk}/stage/",
        {"to_stage": "lost", "reason": "lost_competitor", "note": "Chose the incumbent"},
    )
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/#action-stage"
    lead.refresh_from_db()
    assert (lead.stage, lead.disposition_id) == ("lost", "lost_competitor")
    html = client.get(response["Location"]).content.decode()
    assert "Moved to Lost." in html
    assert "Working → Lost" in html and "Lost to a competitor" in html
    assert "Chose the incumbent" in html
    assert "Ron Rep" in html  # who did it


def test_no_response_is_refused_with_the_persistence_message(owned, users, client_for):
    lead = working(owned.ron, users.rep)
    for _ in range(2):
        touch_log(lead=lead, channel="call", outcome="no_answer", actor=Actor.of(users.rep))
    response = client_for(users.rep).post(
        f"/leads/{lead.pk}/stage/", {"to_stage": "lost", "reason": "lost_no_response"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert (
        "needs at least 6 sales touches before &#x27;no response&#x27; (2 so far, 4 to go)" in html
    )
    assert "2 of 6 touches, 0 of 14 days" in html
    lead.refresh_from_db()
    assert lead.stage == "working"


def test_a_closing_stage_without_a_reason_is_refused(owned, users, client_for):
    lead = working(owned.ron, users.rep)
    response = client_for(users.rep).post(f"/leads/{lead.pk}/stage/", {"to_stage": "lost"})
    assert response.status_code == 400
    assert "a reason for Lost is required" in response.content.decode()


def test_only_allowed_stages_and_user_reasons_are_offered(owned, users, client_for):
    client = client_for(users.rep)
    html = client.get(f"/leads/{owned.ron.pk}/").content.decode()
    stage_select = html.split('name="to_stage"')[1].split("</select>")[0]
    # From Inquiry: nurture, qualifying, sales ready, disqualified; never merged or won.
    for label in ("Nurture", "Qualifying", "Sales ready", "Disqualified"):
        assert f">{label}</option>" in stage_select
    assert "Merged" not in stage_select and ">Won<" not in stage_select
    assert "import_undone" not in html  # system-only reason

    reasons = client.get(f"/leads/{owned.ron.pk}/reasons/", {"to_stage": "disqualified"})
    body = reasons.content.decode()
    assert body.lstrip().startswith('<div id="reason-field">')
    assert "Reason (required)" in body and ">Student</option>" in body
    assert "Not ready to buy yet" not in body and "import_undone" not in body


def test_logging_a_touch_counts_toward_persistence(owned, users, client_for):
    lead = working(owned.ron, users.rep)
    client = client_for(users.rep)
    response = client.post(
        f"/leads/{lead.pk}/touch/",
        {"channel": "call", "direction": "outbound", "outcome": "voicemail", "note": "Left VM"},
    )
    assert response.status_code == 302
    touch = Touch.objects.get(lead=lead, channel="call")
    assert touch.is_sales and touch.outcome == "voicemail" and touch.actor == users.rep
    html = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "1 of 6 touches" in html and "Left voicemail" in html


def test_next_action_due_time_is_read_in_the_users_time_zone(owned, users, client_for):
    users.rep.time_zone = "America/New_York"
    users.rep.save()
    client = client_for(users.rep)
    response = client.post(
        f"/leads/{owned.ron.pk}/next-action/",
        {"action": "Send the proposal", "due_at": "2026-03-10T09:30"},
    )
    assert response.status_code == 302
    lead = Lead.objects.get(pk=owned.ron.pk)
    assert lead.next_action == "Send the proposal"
    assert lead.next_action_due_at == datetime(2026, 3, 10, 13, 30, tzinfo=UTC)  # EDT is UTC-4
    html = client.get(f"/leads/{lead.pk}/").content.decode()
    assert 'value="2026-03-10T09:30"' in html


def test_an_empty_note_is_refused_and_a_note_is_added(owned, users, client_for):
    client = client_for(users.rep)
    assert client.post(f"/leads/{owned.ron.pk}/note/", {"note": "  "}).status_code == 400
    client.post(f"/leads/{owned.ron.pk}/note/", {"note": "Prefers email over calls"})
    assert "Prefers email over calls" in client.get(f"/leads/{owned.ron.pk}/").content.decode()


def test_only_managers_and_admins_assign(owned, users, client_for):
    rep = client_for(users.rep)
    assert "action-assign" not in rep.get(f"/leads/{owned.ron.pk}/").content.decode()
    denied = rep.post(f"/leads/{owned.ron.pk}/assign/", {"owner": f"u{users.rep2.pk}"})
    assert denied.status_code == 403
    assert Lead.objects.get(pk=owned.ron.pk).owner_user == users.rep

    manager = client_for(users.manager)
    moved = manager.post(f"/leads/{owned.ron.pk}/assign/", {"owner": f"u{users.rep2.pk}"})
    assert moved.status_code == 302
    assert Lead.objects.get(pk=owned.ron.pk).owner_user == users.rep2
    # A manager cannot hand a lead to another team's rep.
    other = manager.post(f"/leads/{owned.ron.pk}/assign/", {"owner": f"u{users.other_rep.pk}"})
    assert other.status_code == 400
    queue = Queue.objects.get(slug="qualifying")
    admin = client_for(users.admin)
    # A queue nobody works is refused as an owner, with the reason.
    refused = admin.post(f"/leads/{owned.ron.pk}/assign/", {"owner": f"q{queue.pk}"})
    assert refused.status_code == 400 and b"no active member" in refused.content
    queue.members.add(users.rep)
    assert (
        admin.post(f"/leads/{owned.ron.pk}/assign/", {"owner": f"q{queue.pk}"}).status_code == 302
    )
    assert Lead.objects.get(pk=owned.ron.pk).owner_queue == queue


def test_a_lead_that_leaves_the_users_sight_sends_them_back_to_the_list(owned, users, client_for):
    lead = working(owned.ron, users.rep)
    response = client_for(users.rep).post(
        f"/leads/{lead.pk}/stage/", {"to_stage": "nurture", "reason": "recycle_timing"}
    )
    assert response.status_code == 302 and response["Location"] == "/leads/"
    lead.refresh_from_db()
    assert lead.stage == "nurture" and lead.owner_queue.slug == "marketing"


def test_htmx_actions_swap_the_lead_partial_including_refusals(owned, users, client_for):
    lead = working(owned.ron, users.rep)
    client = client_for(users.rep)
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "lead-main"}
    ok = client.post(f"/leads/{lead.pk}/note/", {"note": "Asked for a demo"}, **htmx)
    assert ok.status_code == 200
    assert ok.content.decode().lstrip().startswith('<div id="lead-main">')
    assert "Note added." in ok.content.decode() and "Asked for a demo" in ok.content.decode()
    refused = client.post(
        f"/leads/{lead.pk}/stage/", {"to_stage": "lost", "reason": "lost_no_response"}, **htmx
    )
    assert refused.status_code == 400
    assert refused.content.decode().lstrip().startswith('<div id="lead-main">')
    assert "0 so far, 6 to go" in refused.content.decode()


def test_actions_need_the_csrf_token(owned, users, client_for):
    client = client_for(users.rep, enforce_csrf_checks=True)
    response = client.post(f"/leads/{owned.ron.pk}/note/", {"note": "forged"})
    assert response.status_code == 403
    assert not LeadEvent.objects.filter(lead=owned.ron, kind="note").exists()
    # With the token from the page, the same post works.
    page = client.get(f"/leads/{owned.ron.pk}/")
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    ok = client.post(f"/leads/{owned.ron.pk}/note/", {"note": "real", "csrfmiddlewaretoken": token})
    assert ok.status_code == 302


def test_the_forms_page_shows_the_snippet_and_a_preview(users, client_for, settings):
    settings.SITE_URL = "https://leads.example.com"
    html = client_for(users.rep).get("/forms/").content.decode()
    assert "Contact us" in html
    assert '&lt;div id="refinery-form-contact"&gt;&lt;/div&gt;' in html
    assert "https://leads.example.com/f/contact/embed.js" in html
    assert 'src="/f/contact/?embed=1"' in html


def test_logout_is_a_post(users, client_for):
    client = client_for(users.rep)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/leads/").status_code == 302
    assert Client().get("/login/").status_code == 200


def test_persistence_reads_naturally_past_the_minimum_days():
    from leadrefinery.leads.views import Persistence

    early = Persistence(
        touches=2, min_touches=6, days=3, min_days=14, touches_left=4, days_left=11
    ).summary
    late = Persistence(
        touches=2, min_touches=6, days=56, min_days=14, touches_left=4, days_left=0
    ).summary
    assert early.startswith("2 of 6 touches, 3 of 14 days")
    assert late == "2 of 6 touches, 56 days (14 needed): 'No response' is available in 4 touches."
