"""The Webhooks page: endpoints, registering one (secret shown once), the delivery log."""

from __future__ import annotations

import re
from datetime import timedelta

from leadrefinery.notifications.dispatch import outbox_dispatch
from leadrefinery.notifications.models import WebhookEndpoint
from leadrefinery.notifications.services import lead_notify
from leadrefinery.notifications.webhooks import webhook_create

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_reps_managers_and_visitors_cannot_open_it(client_for, users, client):
    for user in (users.rep, users.manager, users.marketer):
        browser = client_for(user)
        assert browser.get("/webhooks/").status_code == 403, user.username
        assert browser.post("/webhooks/", {"url": "https://x.example/h"}).status_code == 403
    anonymous = client.get("/webhooks/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/")
    assert not WebhookEndpoint.objects.exists()


def test_admin_registers_an_endpoint_and_sees_the_secret_once(client_for, users):
    browser = client_for(users.admin)
    page = browser.get("/webhooks/")
    assert page.status_code == 200
    assert "No endpoints yet" in page.content.decode()

    answer = browser.post(
        "/webhooks/",
        {"url": "https://crm.example.com/hooks", "events": ["lead.assigned"], "description": "CRM"},
    )
    assert answer.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    html = answer.content.decode()
    assert "shown <strong>only now</strong>" in html
    assert endpoint.secret in html
    assert endpoint.events == ["lead.assigned"]

    later = browser.get("/webhooks/").content.decode()
    assert "https://crm.example.com/hooks" in later
    assert endpoint.secret not in later


def test_a_bad_url_is_refused_with_the_reason(client_for, users):
    answer = client_for(users.admin).post("/webhooks/", {"url": "ftp://files.example.com"})
    assert answer.status_code == 400
    assert "http:// or https://" in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_delivery_log_shows_status_duration_error_and_retry_time(
    client_for, users, receiver, make_lead, frozen_now
):
    lead = make_lead()
    receiver.statuses = [500, 200]
    created = webhook_create(url=receiver.url, created_by=users.admin)
    lead_notify(event="lead.assigned", lead=lead, fact="a", recipients=[])
    outbox_dispatch()
    retry_at = frozen_now.at + timedelta(minutes=1)

    browser = client_for(users.admin)
    html = browser.get("/webhooks/").content.decode()
    assert "HTTP 500" in html
    assert "the receiver did not answer 2xx" in html
    assert "maintenance" in html  # the response excerpt
    assert " ms</td>" in html
    assert f"retry at {retry_at:%Y-%m-%d %H:%M}" in html  # admin's time zone is UTC
    assert "1 delivery waiting" not in html and "waiting for a retry" in html

    frozen_now.set(retry_at)
    outbox_dispatch()
    html = browser.get(f"/webhooks/?endpoint={created.endpoint.pk}").content.decode()
    assert "HTTP 200" in html
    assert "delivered" in html
    assert "retried" in html  # the first attempt, superseded


def test_admin_deactivates_and_reactivates(client_for, users):
    created = webhook_create(url="https://crm.example.com/hooks", created_by=users.admin)
    browser = client_for(users.admin)
    page = browser.get("/webhooks/").content.decode()
    assert CSRF_RE.search(page)
    answer = browser.post(f"/webhooks/{created.endpoint.pk}/active/", {"active": "0"})
    assert answer.status_code == 302
    created.endpoint.refresh_from_db()
    assert created.endpoint.active is False
    assert "deactivated" in browser.get("/webhooks/").content.decode()
    browser.post(f"/webhooks/{created.endpoint.pk}/active/", {"active": "1"})
    created.endpoint.refresh_from_db()
    assert created.endpoint.active is True
