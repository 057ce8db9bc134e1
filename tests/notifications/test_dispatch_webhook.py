"""Signed webhooks to a real HTTP receiver on loopback: signatures, retries, the log."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest

from leadrefinery.notifications.dispatch import MAX_ATTEMPTS, outbox_dispatch
from leadrefinery.notifications.models import OutboxMessage, WebhookDelivery
from leadrefinery.notifications.services import lead_notify
from leadrefinery.notifications.webhooks import webhook_create, webhook_deactivate


def receiver_verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What docs/webhooks.md tells a receiver to do, written independently of the sender."""
    timestamp = headers["X-Refinery-Timestamp"]
    expected = (
        "sha256="
        + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected, headers["X-Refinery-Signature"])


@pytest.fixture
def lead(make_lead):
    return make_lead(first_name="Dana", last_name="Whitfield", company="Northwind Traders")


def _hook_rows(lead, fact="assign-1", event="lead.assigned"):
    rows = [
        r for r in lead_notify(event=event, lead=lead, fact=fact, recipients=[]) if r.endpoint_id
    ]
    assert rows
    return rows


def test_receiver_gets_a_signed_post_it_can_verify(receiver, lead, users, frozen_now):
    created = webhook_create(url=receiver.url, events=["lead.assigned"], created_by=users.admin)
    (row,) = _hook_rows(lead)

    assert outbox_dispatch() == 1

    (request,) = receiver.requests
    assert request.path == "/hooks/refinery"
    assert request.headers["X-Refinery-Event"] == "lead.assigned"
    assert request.headers["X-Refinery-Delivery"] == str(row.pk)
    assert request.headers["X-Refinery-Timestamp"] == str(int(frozen_now.at.timestamp()))
    assert request.headers["Content-Type"] == "application/json"
    assert receiver_verifies(created.secret, request.headers, request.body)
    # Another secret, or a body changed on the way, does not verify.
    assert not receiver_verifies("whsec_wrong", request.headers, request.body)
    assert not receiver_verifies(created.secret, request.headers, request.body + b" ")
    body = json.loads(request.body)
    assert body["event"] == "lead.assigned"
    assert body["lead"]["id"] == lead.pk
    assert body["lead"]["company"] == "Northwind Traders"

    row.refresh_from_db()
    assert row.status == "sent"
    (delivery,) = WebhookDelivery.objects.filter(message=row)
    assert (delivery.attempt, delivery.status_code, delivery.error) == (1, 200, "")
    assert '"ok"' in delivery.response_excerpt


def test_endpoint_only_gets_the_events_it_subscribed_to(receiver, lead, users, frozen_now):
    webhook_create(url=receiver.url, events=["lead.sla_breached"], created_by=users.admin)
    assert lead_notify(event="lead.assigned", lead=lead, fact="x", recipients=[]) == []
    _hook_rows(lead, event="lead.sla_breached")
    outbox_dispatch()
    assert [r.headers["X-Refinery-Event"] for r in receiver.requests] == ["lead.sla_breached"]


def test_failing_receiver_gets_retries_with_backoff_and_each_attempt_is_logged(
    receiver, lead, users, frozen_now
):
    receiver.statuses = [500, 500, 503, 200]
    created = webhook_create(url=receiver.url, created_by=users.admin)
    (row,) = _hook_rows(lead)
    start = frozen_now.at

    assert outbox_dispatch() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.next_attempt_at == start + timedelta(minutes=1)
    assert "HTTP 500" in row.last_error

    # Before the retry time nothing is sent.
    frozen_now.advance(timedelta(seconds=59))
    assert outbox_dispatch() == 0
    assert len(receiver.requests) == 1

    frozen_now.set(start + timedelta(minutes=1))
    assert outbox_dispatch() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2)
    assert row.next_attempt_at == start + timedelta(minutes=1 + 2)

    frozen_now.set(start + timedelta(minutes=3))
    assert outbox_dispatch() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.next_attempt_at == start + timedelta(minutes=3 + 4)

    frozen_now.set(start + timedelta(minutes=7))
    assert outbox_dispatch() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 4)

    # Every attempt carried the same delivery id and a valid signature for its own timestamp.
    assert {r.headers["X-Refinery-Delivery"] for r in receiver.requests} == {str(row.pk)}
    assert all(receiver_verifies(created.secret, r.headers, r.body) for r in receiver.requests)
    log = list(WebhookDelivery.objects.filter(message=row).order_by("attempt"))
    assert [(d.attempt, d.status_code) for d in log] == [(1, 500), (2, 500), (3, 503), (4, 200)]
    assert [d.attempted_at - start for d in log] == [
        timedelta(0),
        timedelta(minutes=1),
        timedelta(minutes=3),
        timedelta(minutes=7),
    ]
    assert "maintenance" in log[0].response_excerpt
    assert log[0].error and not log[3].error


def test_a_receiver_that_never_recovers_is_given_up_after_eight_attempts(
    receiver, lead, users, frozen_now
):
    receiver.statuses = [500]
    webhook_create(url=receiver.url, created_by=users.admin)
    (row,) = _hook_rows(lead)
    waits = []
    for _ in range(MAX_ATTEMPTS):
        assert outbox_dispatch() == 1
        row.refresh_from_db()
        if row.next_attempt_at:
            waits.append(row.next_attempt_at - frozen_now.at)
            frozen_now.set(row.next_attempt_at)
    assert row.status == "dead"
    assert row.attempts == MAX_ATTEMPTS
    assert [w.total_seconds() / 60 for w in waits] == [1, 2, 4, 8, 16, 32, 60]
    frozen_now.advance(timedelta(days=1))
    assert outbox_dispatch() == 0
    assert len(receiver.requests) == MAX_ATTEMPTS


def test_unreachable_receiver_and_redirects_are_failures_in_the_log(
    receiver, closed_port_url, lead, users, frozen_now
):
    receiver.statuses = [302]
    webhook_create(url=closed_port_url, created_by=users.admin)
    webhook_create(url=receiver.url, created_by=users.admin)
    rows = _hook_rows(lead)

    assert outbox_dispatch() == 2

    refused = WebhookDelivery.objects.get(endpoint__url=closed_port_url)
    assert refused.status_code is None
    assert "refused" in refused.error.lower()
    redirected = WebhookDelivery.objects.get(endpoint__url=receiver.url)
    assert redirected.status_code == 302
    assert len(receiver.requests) == 1  # the redirect was not followed
    assert {r.status for r in OutboxMessage.objects.filter(pk__in=[r.pk for r in rows])} == {
        "failed"
    }


def test_a_deactivated_endpoint_gets_nothing_more(receiver, lead, users, frozen_now):
    created = webhook_create(url=receiver.url, created_by=users.admin)
    (row,) = _hook_rows(lead)
    webhook_deactivate(created.endpoint)

    assert outbox_dispatch() == 1
    assert receiver.requests == []
    row.refresh_from_db()
    assert row.status == "dead"
    assert "deactivated" in row.last_error
    # And no new rows are queued for it.
    assert lead_notify(event="lead.assigned", lead=lead, fact="again", recipients=[]) == []
