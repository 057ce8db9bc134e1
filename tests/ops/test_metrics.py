"""GET /metrics: Prometheus text a scraper reads, figures that move when leads arrive, and
no access from outside the machine unless a token is set."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from leadrefinery.common.clock import now
from leadrefinery.leads.models import Lead

pytestmark = pytest.mark.django_db


def scrape(client: Client | None = None, **extra) -> dict[tuple[str, tuple], float]:
    response = (client or Client()).get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    out = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_the_figures_move_when_leads_arrive_and_fall_due(make_lead, users):
    before = scrape()
    assert before[("refinery_leads", (("stage", "inquiry"),))] == 0
    lead = make_lead()
    make_lead()
    after = scrape()
    assert after[("refinery_leads", (("stage", "inquiry"),))] == 2
    processed = ("refinery_intake_records_total", (("status", "processed"),))
    assert after[processed] == before.get(processed, 0) + 2
    assert after[("refinery_leads_overdue", ())] == 0

    Lead.objects.filter(pk=lead.pk).update(next_action_due_at=now() - timedelta(hours=2))
    assert scrape()[("refinery_leads_overdue", ())] == 1
    # The periodic jobs are listed, and the outbox backlog by kind.
    names = {name for name, _ in after}
    assert {"refinery_job_late_seconds", "refinery_outbox_backlog", "refinery_jobs_queued",
            "refinery_speed_to_lead_seconds", "refinery_leads_unworked",
            "refinery_leads_sla_breached", "refinery_webhook_failures"} <= names  # fmt: skip


def test_request_latency_is_recorded_by_view_name(users):
    browser = Client()
    browser.force_login(users.rep)
    assert browser.get("/leads/").status_code == 200
    samples = scrape()
    counts = {
        dict(labels)["view"]: value
        for (name, labels), value in samples.items()
        if name == "refinery_http_request_duration_seconds_count"
    }
    assert counts.get("lead-list", 0) >= 1, sorted(counts)
    assert not any("/" in view for view in counts), "paths (ids, emails) never become labels"


def test_only_this_machine_or_a_token_holder_may_read_them(db):
    assert Client().get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    proxied = Client().get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert proxied.status_code == 404, "a reverse proxy on this machine must not publish it"
    with override_settings(REFINERY_METRICS_TOKEN="s3cret-token"):
        assert Client().get("/metrics").status_code == 404, "the token is then required"
        wrong = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
        assert wrong.status_code == 404
        ok = Client().get(
            "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token"
        )
        assert ok.status_code == 200
