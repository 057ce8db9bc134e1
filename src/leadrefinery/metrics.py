"""``GET /metrics``: Prometheus metrics (prometheus-client).

Two kinds:

- **Request latency by view**, a histogram the ``RequestMetrics`` middleware fills in each web
  process. Under ``refinery serve`` the processes share ``PROMETHEUS_MULTIPROC_DIR`` (set by
  ``serve`` in the data folder) and a scrape adds up every process's numbers.
- **The state of the pipeline and the machinery**, read from the database at scrape time by
  ``PipelineCollector``: leads per stage, overdue, unworked and SLA-breached leads,
  speed-to-lead over the last 7 days, intake records by outcome, outbox backlog and webhook
  failures, the job queue, how late each periodic job is, and each job's last duration.
  Every read goes through an index (a scrape of 1,000,000 leads: docs/operations.md).

Access: with ``REFINERY_METRICS_TOKEN`` set, ``Authorization: Bearer <token>``; without it,
only a client on the same machine (a loopback address, and no proxy's X-Forwarded-For), so a
reverse proxy never publishes it by accident. Other callers get 404.
"""

from __future__ import annotations

import hmac
import os
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from leadrefinery.common.clock import now
from leadrefinery.common.jobs import REGISTRY
from leadrefinery.leads import domain as lead_domain
from leadrefinery.leads.models import IntakeRecord, Lead
from leadrefinery.notifications.models import OutboxMessage

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPEN = [s.value for s in lead_domain.OPEN_STAGES]
ALL_STAGES = [s.value for s in lead_domain.Stage]
SALES = [s.value for s in lead_domain.SALES_STAGES]

# Not in the default registry: /metrics builds its own per scrape (multi-process or not).
REQUEST_SECONDS = Histogram(
    "refinery_http_request_duration_seconds",
    "Time to answer a request, by view (URL name), method and status class.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=None,
)


class RequestMetrics:
    """Middleware: times every request into ``REQUEST_SECONDS`` under its URL name (never
    its path, which can hold ids and addresses)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "(unmatched)"
        REQUEST_SECONDS.labels(
            view[:80], request.method or "", f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
        return response


class PipelineCollector:
    """The database's state at scrape time, one small query per family."""

    def collect(self) -> Iterator[Metric]:
        at = now()
        leads = GaugeMetricFamily("refinery_leads", "Leads by stage.", labels=["stage"])
        by_stage = dict(
            Lead.objects.filter(stage__in=ALL_STAGES)
            .values_list("stage")
            .annotate(n=Count("pk"))
            .values_list("stage", "n")
            .order_by()
        )
        for stage in ALL_STAGES:
            leads.add_metric([stage], by_stage.get(stage, 0))
        yield leads
        yield GaugeMetricFamily(
            "refinery_leads_overdue",
            "Open leads whose next action is past due.",
            value=Lead.objects.filter(next_action_due_at__lt=at, stage__in=OPEN).count(),
        )
        yield GaugeMetricFamily(
            "refinery_leads_unworked",
            "Leads with sales (sales ready, working, opportunity) that no rep has touched yet.",
            value=Lead.objects.filter(stage__in=SALES, first_sales_touch_at__isnull=True).count(),
        )
        yield GaugeMetricFamily(
            "refinery_leads_sla_breached",
            "Open leads whose speed-to-lead SLA was breached.",
            value=Lead.objects.filter(stage__in=OPEN, sla_breached_at__isnull=False).count(),
        )
        yield from self._speed(at)
        intake = CounterMetricFamily(
            "refinery_intake_records", "Inquiries received, by outcome.", labels=["status"]
        )
        for status, n in (
            IntakeRecord.objects.values_list("status").annotate(n=Count("pk")).order_by()
        ):
            intake.add_metric([status], n)
        yield intake
        yield from self._outbox(at)
        yield from self._jobs(at)

    def _speed(self, at) -> Iterator[Metric]:  # type: ignore[no-untyped-def]
        seconds = sorted(
            float(s or 0)
            for s in Lead.objects.filter(
                stage__in=ALL_STAGES,
                received_at__gte=at - timedelta(days=7),
                speed_to_lead_seconds__isnull=False,
            ).values_list("speed_to_lead_seconds", flat=True)
        )
        speed = GaugeMetricFamily(
            "refinery_speed_to_lead_seconds",
            "Inquiry to first sales touch, leads received in the last 7 days that were "
            "touched (quantiles; NaN when none).",
            labels=["quantile"],
        )
        for q in (0.5, 0.9):
            if len(seconds) > 1:
                value = statistics.quantiles(seconds, n=10, method="inclusive")[int(q * 10) - 1]
            else:
                value = seconds[0] if seconds else float("nan")
            speed.add_metric([str(q)], value)
        yield speed

    def _outbox(self, at) -> Iterator[Metric]:  # type: ignore[no-untyped-def]
        waiting = Q(status__in=["pending", "sending", "failed"])
        backlog = GaugeMetricFamily(
            "refinery_outbox_backlog", "Emails and webhooks not sent yet.", labels=["kind"]
        )
        oldest = GaugeMetricFamily(
            "refinery_outbox_oldest_age_seconds",
            "Age of the oldest email or webhook not sent yet (0 when none).",
            labels=["kind"],
        )
        rows = {
            kind: (n, first)
            for kind, n, first in OutboxMessage.objects.filter(waiting)
            .values_list("kind")
            .annotate(n=Count("pk"), first=Min("created_at"))
            .values_list("kind", "n", "first")
            .order_by()
        }
        for kind in OutboxMessage.Kind.values:
            n, first = rows.get(kind, (0, None))
            backlog.add_metric([kind], n)
            oldest.add_metric([kind], (at - first).total_seconds() if first else 0.0)
        yield backlog
        yield oldest
        dead = OutboxMessage.objects.filter(kind="webhook", status="dead").count()
        failing = OutboxMessage.objects.filter(kind="webhook", status="failed").count()
        failures = GaugeMetricFamily(
            "refinery_webhook_failures",
            "Webhooks that failed and wait for a retry (failed), or gave up (dead).",
            labels=["state"],
        )
        failures.add_metric(["failed"], failing)
        failures.add_metric(["dead"], dead)
        yield failures

    def _jobs(self, at) -> Iterator[Metric]:  # type: ignore[no-untyped-def]
        from django_q.brokers import get_broker
        from django_q.models import Schedule, Task

        yield GaugeMetricFamily(
            "refinery_jobs_queued",
            "Background tasks waiting in the queue (the database's, or Redis').",
            value=get_broker().queue_size() or 0,
        )
        late = GaugeMetricFamily(
            "refinery_job_late_seconds",
            "How long a periodic job's next run is overdue (0 when on time): the worker is "
            "down or behind when this grows.",
            labels=["job"],
        )
        schedules = dict(Schedule.objects.values_list("name", "next_run"))
        duration = GaugeMetricFamily(
            "refinery_job_last_duration_seconds", "The last run's duration.", labels=["job"]
        )
        success = GaugeMetricFamily(
            "refinery_job_last_success", "1 when the last run succeeded.", labels=["job"]
        )
        for job in REGISTRY:
            due = schedules.get(job.name)
            late.add_metric([job.name], max(0.0, (at - due).total_seconds()) if due else 0.0)
            last = (
                Task.objects.filter(group=job.name)
                .order_by("-stopped")
                .values_list("started", "stopped", "success")
                .first()
            )
            if last is not None:
                duration.add_metric([job.name], (last[1] - last[0]).total_seconds())
                success.add_metric([job.name], 1.0 if last[2] else 0.0)
        yield late
        yield duration
        yield success


def _allowed(request: HttpRequest) -> bool:
    token = getattr(settings, "REFINERY_METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    address = request.META.get("REMOTE_ADDR", "")
    local = address in ("127.0.0.1", "::1") or address.startswith("127.")
    return local and "HTTP_X_FORWARDED_FOR" not in request.META


def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponseNotFound()
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # every web process's request histogram
    else:
        registry.register(REQUEST_SECONDS)
    registry.register(PipelineCollector())  # type: ignore[arg-type]
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE)
