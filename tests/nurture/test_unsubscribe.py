"""One-click unsubscribe (RFC 8058): a POST without login or CSRF token stops every later
send at once, idempotently; the GET page only asks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from leadrefinery.leads.models import Consent, LeadEvent, Touch
from leadrefinery.nurture.models import Enrollment, NurtureSend, Suppression
from leadrefinery.nurture.sweep import nurture_sweep

pytestmark = pytest.mark.django_db


def test_a_one_click_post_stops_all_later_sends(
    smtp_server, make_program, nurture_lead, frozen_now
):
    make_program(entry_rules=["new_inquiry"], name="Tips")
    make_program(entry_rules=["new_inquiry"], name="Stories", window_weekdays=[0, 1, 2, 3, 4])
    lead = nurture_lead(first_name="Una", email="una@example.com", country="GB", consent=True)
    nurture_lead(first_name="Otto", email="otto@example.com", country="GB", consent=True)
    nurture_sweep()
    sent_before = NurtureSend.objects.filter(person=lead.person, status="sent").count()
    assert sent_before == 2  # one from each program (the cap allows two a week)
    first = next(m for m in smtp_server.messages if m["To"] == "una@example.com")
    url = first["List-Unsubscribe"].strip("<>")
    path = url.removeprefix("https://refinery.example.com")

    # What a mail client does for RFC 8058: POST the fixed body, no cookies, no token.
    client = Client(enforce_csrf_checks=True)
    for _ in range(2):  # idempotent: the second click changes nothing and still says done
        response = client.post(
            path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200
        assert b"You are unsubscribed" in response.content

    assert Suppression.objects.get(address="una@example.com").reason == "unsubscribed"
    latest = Consent.objects.filter(person=lead.person).order_by("-recorded_at", "-id").first()
    assert latest.basis == "withdrawn"
    assert Consent.objects.filter(person=lead.person, basis="withdrawn").count() == 1
    assert set(Enrollment.objects.filter(lead=lead).values_list("status", "exit_reason")) == {
        ("exited", "unsubscribed")
    }
    assert Touch.objects.filter(lead=lead, outcome="unsubscribed").count() == 1
    assert LeadEvent.objects.filter(lead=lead, kind="nurture", reason="exit_unsubscribed").exists()

    before = len(smtp_server.messages)
    for _ in range(6):
        frozen_now.advance(timedelta(days=7))
        nurture_sweep()
    later = smtp_server.messages[before:]
    assert later, "the other recipient keeps receiving"
    assert all(m["To"] == "otto@example.com" for m in later)
    assert NurtureSend.objects.filter(person=lead.person, status="sent").count() == sent_before


def test_the_unsubscribe_page_asks_before_it_acts(smtp_server, make_program, nurture_lead):
    make_program(entry_rules=["new_inquiry"])
    lead = nurture_lead(email="page@example.com", country="GB", consent=True)
    nurture_sweep()
    send = NurtureSend.objects.get(lead=lead, status="sent")
    client = Client(enforce_csrf_checks=True)

    page = client.get(f"/u/{send.token}")
    assert page.status_code == 200
    assert b"page@example.com" in page.content and b'id="confirm-unsubscribe"' in page.content
    assert not Suppression.objects.exists()  # link scanners fetch URLs: GET changes nothing

    done = client.post(f"/u/{send.token}")
    assert b"You are unsubscribed" in done.content
    assert Suppression.objects.filter(address="page@example.com").exists()

    assert client.get("/u/not-a-real-token").status_code == 404
    assert client.post("/u/not-a-real-token").status_code == 404


def test_an_unsubscribe_taking_effect_before_a_send_already_claimed(
    smtp_server, make_program, nurture_lead, frozen_now
):
    """The check happens per row at send time, after the claim: an unsubscribe that lands
    between scheduling and sending wins."""
    from leadrefinery.nurture import services

    make_program(entry_rules=["new_inquiry"])
    frozen_now.set(frozen_now.at.replace(hour=20))  # outside the window: scheduled, not sent
    lead = nurture_lead(email="late@example.com", country="GB", consent=True)
    nurture_sweep()
    send = NurtureSend.objects.get(lead=lead)
    assert send.status == "scheduled"
    services.suppression_add(address="LATE@example.com ", reason="unsubscribed", source="test")
    frozen_now.advance(timedelta(days=1))
    nurture_sweep()
    assert smtp_server.messages == []
    send.refresh_from_db()
    assert send.status == "skipped"
