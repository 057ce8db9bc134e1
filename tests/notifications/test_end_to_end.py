"""An inquiry routed to a rep ends as one email in the rep's inbox and one signed POST."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from leadrefinery.leads.models import Lead
from leadrefinery.notifications.dispatch import outbox_dispatch
from leadrefinery.notifications.webhooks import signature_valid, webhook_create
from leadrefinery.routing.models import RoutingRule


def test_inquiry_to_rep_inbox_and_receiver(
    users, submit_inquiry, smtp_server, receiver, frozen_now
):
    users.rep.email = "ron@example.com"
    users.rep.save()
    for other in (users.manager, users.rep2):  # team East then has one rep taking leads
        other.is_active = False
        other.save()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    RoutingRule.objects.create(
        name="East",
        order=10,
        conditions=[],
        target_kind="team",
        target_team=users.rep.team,
        created_at=at,
        updated_at=at,
    )
    created = webhook_create(url=receiver.url, events=["lead.assigned"], created_by=users.admin)

    record = submit_inquiry(email="dana@northwind.example", first_name="Dana", company="Northwind")
    lead = Lead.objects.get(pk=record.lead_id)
    assert lead.owner_user == users.rep

    assert outbox_dispatch() == 2
    assert outbox_dispatch() == 0
    (mail,) = smtp_server.messages
    assert mail["To"] == "ron@example.com"
    assert f"/leads/{lead.pk}/" in mail.get_payload()
    (post,) = receiver.requests
    headers = post.headers
    assert signature_valid(
        created.secret, headers["X-Refinery-Timestamp"], post.body, headers["X-Refinery-Signature"]
    )
    assert json.loads(post.body)["lead"]["owner"] == str(lead.owner_label)
