"""Bounces and complaints: from the SMTP server's refusal, the webhook, or django-anymail's
tracking signal; failures retry with backoff and then show in the UI."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from leadrefinery.nurture import domain
from leadrefinery.nurture.models import Enrollment, NurtureSend, Suppression
from leadrefinery.nurture.sweep import nurture_sweep
from tests.notifications.conftest import _Collector, _free_port

pytestmark = pytest.mark.django_db


class _Refusing(_Collector):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_smtp(settings):
    collector = _Refusing()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield collector
    controller.stop()


def test_a_permanent_smtp_refusal_is_a_hard_bounce(
    refusing_smtp, make_program, nurture_lead, client_for, users
):
    make_program(entry_rules=["new_inquiry"])
    bad = nurture_lead(email="nobody@example.com", country="GB", consent=True)
    nurture_lead(email="someone@example.com", country="GB", consent=True)
    nurture_sweep()
    assert [m["To"] for m in refusing_smtp.messages] == ["someone@example.com"]
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason, suppression.source) == (
        "nobody@example.com",
        "hard_bounce",
        "smtp",
    )
    assert Enrollment.objects.get(lead=bad).exit_reason == "bounced"
    dead = NurtureSend.objects.get(lead=bad, step__position=1)
    assert dead.status == "dead" and "550" in dead.last_error

    page = client_for(users.marketer).get("/nurture/").content.decode()
    assert "nobody@example.com" in page and "no such user" in page


def test_failures_retry_with_backoff_then_show_as_failed(
    settings, make_program, nurture_lead, frozen_now, client_for, users
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()  # nothing listens
    make_program(entry_rules=["new_inquiry"])
    lead = nurture_lead(email="later@example.com", country="GB", consent=True)
    nurture_sweep()
    send = NurtureSend.objects.get(lead=lead)
    waits = []
    for attempt in range(1, domain.MAX_ATTEMPTS):
        assert (send.status, send.attempts) == ("failed", attempt)
        waits.append(send.send_after - frozen_now.at)
        nurture_sweep()  # not due yet: nothing happens
        send.refresh_from_db()
        assert send.attempts == attempt
        frozen_now.set(send.send_after)
        nurture_sweep()
        send.refresh_from_db()
    assert waits == [domain.backoff(n) for n in range(1, domain.MAX_ATTEMPTS)]
    assert waits[1] == 2 * waits[0]
    assert send.status == "dead" and send.attempts == domain.MAX_ATTEMPTS
    assert "Connection refused" in send.last_error or "Errno" in send.last_error

    page = client_for(users.marketer).get(f"/nurture/programs/{send.enrollment.program_id}/")
    text = page.content.decode()
    assert 'id="failed-sends"' in text and "later@example.com" in text
    assert "Failed; gave up" in text


def test_the_bounce_webhook_needs_the_secret_and_suppresses(
    settings, make_program, nurture_lead, smtp_server
):
    settings.REFINERY_NURTURE_WEBHOOK_SECRET = "s3cret-value"
    make_program(entry_rules=["new_inquiry"])
    lead = nurture_lead(email="complainer@example.com", country="GB", consent=True)
    nurture_sweep()
    client = Client(enforce_csrf_checks=True)
    body = json.dumps([{"email": "Complainer@example.com", "event": "complained"}])
    refused = client.post("/nurture/bounces", body, content_type="application/json")
    assert refused.status_code == 401
    wrong = client.post(
        "/nurture/bounces", body, content_type="application/json", HTTP_AUTHORIZATION="Bearer x"
    )
    assert wrong.status_code == 401
    ok = client.post(
        "/nurture/bounces",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer s3cret-value",
    )
    assert ok.status_code == 200 and ok.json() == {"recorded": 1}
    assert Suppression.objects.get().reason == "complaint"
    assert Enrollment.objects.get(lead=lead).exit_reason == "bounced"
    bad = client.post(
        "/nurture/bounces",
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer s3cret-value",
    )
    assert bad.status_code == 422


def test_anymail_tracking_events_suppress_bounces_and_complaints(db):
    from anymail.signals import AnymailTrackingEvent, tracking

    for address, kind in [("b@example.com", "bounced"), ("c@example.com", "complained")]:
        event = AnymailTrackingEvent(event_type=kind, recipient=address, description="test")
        tracking.send(sender=object, event=event, esp_name="Postmark")
    opened = AnymailTrackingEvent(event_type="opened", recipient="o@example.com")
    tracking.send(sender=object, event=opened, esp_name="Postmark")
    assert dict(Suppression.objects.values_list("address", "reason")) == {
        "b@example.com": "hard_bounce",
        "c@example.com": "complaint",
    }
    assert set(Suppression.objects.values_list("source", flat=True)) == {"esp:Postmark"}


def test_a_retry_of_a_row_carries_the_same_message_id(
    smtp_server, make_program, nurture_lead, frozen_now
):
    """A row whose lease ran out while `sending` (its worker died) is sent again, with the
    Message-ID it would have had the first time."""
    from leadrefinery.nurture.dispatch import claim_due, message_id

    make_program(entry_rules=["new_inquiry"])
    nurture_lead(email="again@example.com", country="GB", consent=True)
    nurture_sweep()  # enrolls and sends
    sent = NurtureSend.objects.get(status="sent")
    NurtureSend.objects.filter(pk=sent.pk).update(
        status="scheduled", message_id="", send_after=frozen_now.at
    )
    _token, claimed = claim_due(frozen_now.at, 10)  # a worker claims it ... and dies
    assert [r.pk for r in claimed] == [sent.pk]
    nurture_sweep()
    assert len(smtp_server.messages) == 1  # the lease still holds: nobody else sends it
    frozen_now.advance(timedelta(minutes=6))
    nurture_sweep()
    first, second = smtp_server.messages
    assert first["Message-ID"] == second["Message-ID"] == message_id(sent)
