"""The dispatch is a registered periodic job and a command."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.utils.module_loading import import_string

from leadrefinery.common.jobs import REGISTRY
from leadrefinery.notifications.models import OutboxMessage
from leadrefinery.notifications.services import lead_notify


def test_the_worker_runs_the_dispatch_every_minute():
    (job,) = [j for j in REGISTRY if j.name == "outbox-send"]
    assert job.minutes == 1
    assert import_string(job.func).__name__ == "outbox_dispatch"


def test_refinery_outbox_send_reports_what_it_did(
    smtp_server, closed_port_url, users, make_lead, frozen_now
):
    from leadrefinery.notifications.webhooks import webhook_create

    lead = make_lead()
    webhook_create(url=closed_port_url, created_by=users.admin)
    lead_notify(event="lead.assigned", lead=lead, fact="a", recipients=["ron@example.com"])
    out = io.StringIO()
    call_command("outbox_send", "--all", stdout=out)
    assert out.getvalue().strip() == ("Sent 1 message(s); 1 failed and will be retried; 0 gave up.")
    assert len(smtp_server.messages) == 1
    assert sorted(OutboxMessage.objects.values_list("status", flat=True)) == ["failed", "sent"]
