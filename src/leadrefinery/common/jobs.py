"""The registry of periodic jobs. `refinery worker` makes the schedule match this list.

Each job is an idempotent sweep over a due column: running it twice, or in two workers at
once, does no harm.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: str
    minutes: int
    description: str


REGISTRY: tuple[PeriodicJob, ...] = (
    PeriodicJob(
        name="intake-retry",
        func="leadrefinery.leads.intake.intake_retry_sweep",
        minutes=1,
        description="Process intake records that a crash left unprocessed.",
    ),
    PeriodicJob(
        name="sla-sweep",
        func="leadrefinery.sla.sweep.sla_sweep",
        minutes=1,
        description="Walk due leads up the SLA ladder: remind the owner, breach, reassign.",
    ),
    PeriodicJob(
        name="outbox-send",
        func="leadrefinery.notifications.dispatch.outbox_dispatch",
        minutes=1,
        description="Send queued emails and webhooks; retry failures with backoff.",
    ),
)


def sync_schedules() -> list[str]:
    """Create or update one django-q Schedule per registered job; remove stale ones of ours."""
    from django_q.models import Schedule

    names = []
    for job in REGISTRY:
        Schedule.objects.update_or_create(
            name=job.name,
            defaults={
                "func": job.func,
                "schedule_type": Schedule.MINUTES,
                "minutes": job.minutes,
                "repeats": -1,
            },
        )
        names.append(job.name)
    Schedule.objects.filter(func__startswith="leadrefinery.").exclude(name__in=names).delete()
    return names
