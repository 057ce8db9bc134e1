"""Email through the outbox to a real SMTP server on loopback."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from leadrefinery.notifications.dispatch import message_id, outbox_dispatch
from leadrefinery.notifications.models import OutboxMessage
from leadrefinery.notifications.services import lead_notify


def _queue_mail(lead, fact: str, *addresses: str) -> list[OutboxMessage]:
    rows = lead_notify(event="lead.assigned", lead=lead, fact=fact, recipients=list(addresses))
    assert all(r.kind == "email" for r in rows)
    return rows


def test_each_row_is_mailed_exactly_once_even_when_dispatch_runs_twice(
    smtp_server, make_lead, frozen_now
):
    lead = make_lead(first_name="Dana", last_name="Whitfield", company="Northwind Traders")
    rows = _queue_mail(lead, "assign-1", "ron@example.com", "rita@example.com")

    assert outbox_dispatch() == 2
    assert outbox_dispatch() == 0

    assert len(smtp_server.messages) == 2
    by_recipient = {m["To"]: m for m in smtp_server.messages}
    assert set(by_recipient) == {"ron@example.com", "rita@example.com"}
    mail = by_recipient["ron@example.com"]
    assert mail["Subject"] == "New lead for you: Dana Whitfield"
    assert "Northwind Traders" in mail.get_payload()
    assert f"/leads/{lead.pk}/" in mail.get_payload()
    # The Message-ID comes from the row, so a resend after a crash is recognisable.
    sent_ids = {m["Message-ID"] for m in smtp_server.messages}
    assert sent_ids == {message_id(r) for r in rows}
    for row in OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]):
        assert row.status == "sent"
        assert row.sent_at == frozen_now.at
        assert row.attempts == 1


def test_queuing_the_same_fact_twice_sends_one_mail(smtp_server, make_lead, frozen_now):
    lead = make_lead()
    _queue_mail(lead, "assign-1", "ron@example.com")
    assert _queue_mail(lead, "assign-1", "ron@example.com") == []
    outbox_dispatch()
    assert len(smtp_server.messages) == 1


def test_mail_server_down_means_retry_with_backoff(
    smtp_server, settings, closed_port_url, make_lead, frozen_now
):
    lead = make_lead()
    (row,) = _queue_mail(lead, "assign-1", "ron@example.com")
    real_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = int(closed_port_url.split(":")[2].split("/")[0])

    assert outbox_dispatch() == 1
    row.refresh_from_db()
    assert row.status == "failed"
    assert row.attempts == 1
    assert row.next_attempt_at == frozen_now.at + timedelta(minutes=1)
    assert row.last_error

    # Not due yet: nothing happens; once due and the server is back, it goes out once.
    settings.EMAIL_PORT = real_port
    assert outbox_dispatch() == 0
    frozen_now.advance(timedelta(minutes=1))
    assert outbox_dispatch() == 1
    row.refresh_from_db()
    assert row.status == "sent"
    assert row.attempts == 2
    assert len(smtp_server.messages) == 1


def test_a_stale_sending_row_is_claimed_again_and_a_fresh_one_is_not(
    smtp_server, make_lead, frozen_now
):
    lead = make_lead()
    stale, fresh = _queue_mail(lead, "assign-1", "stale@example.com", "fresh@example.com")
    # A sender claimed both and crashed; one claim is older than five minutes.
    OutboxMessage.objects.filter(pk=stale.pk).update(
        status="sending", claimed_at=frozen_now.at - timedelta(minutes=6)
    )
    OutboxMessage.objects.filter(pk=fresh.pk).update(
        status="sending", claimed_at=frozen_now.at - timedelta(minutes=2)
    )

    assert outbox_dispatch() == 1
    assert [m["To"] for m in smtp_server.messages] == ["stale@example.com"]
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == "sent"
    assert fresh.status == "sending"

    frozen_now.advance(timedelta(minutes=4))
    assert outbox_dispatch() == 1
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "fresh@example.com",
        "stale@example.com",
    ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_never_send_a_row_twice(smtp_server, make_lead, frozen_now):
    lead = make_lead()
    rows = _queue_mail(lead, "bulk", *[f"rep{i}@example.com" for i in range(30)])
    start = threading.Barrier(4)
    handled: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            start.wait()
            handled.append(outbox_dispatch(limit=30))
        except BaseException as exc:  # report it to the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sum(handled) == len(rows)
    recipients = [m["To"] for m in smtp_server.messages]
    assert sorted(recipients) == sorted(r.recipient for r in rows)
    assert len(set(recipients)) == len(rows)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
