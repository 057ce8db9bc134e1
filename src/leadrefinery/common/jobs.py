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
        func="leadrefinery.intake.services.intake_retry_sweep",
        minutes=1,
        description="Process intake records that a crash left unprocessed.",
    ),
    PeriodicJob(
        name="import-jobs",
        func="leadrefinery.intake.import_jobs.import_jobs_sweep",
        minutes=1,
        description="Hand the worker the import page's jobs nobody took, and resume imports "
        "whose worker died (no heartbeat for REFINERY_IMPORT_STALE_SECONDS).",
    ),
    PeriodicJob(
        name="import-files",
        func="leadrefinery.intake.import_jobs.import_files_prune",
        minutes=1440,
        description="Delete uploaded import files and rejected-rows files "
        "REFINERY_IMPORT_FILES_KEEP_DAYS after their last job ended (they hold personal data).",
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
    PeriodicJob(
        name="cadence-sweep",
        func="leadrefinery.cadences.sweep.cadence_sweep",
        minutes=1,
        description="Tell owners of overdue cadence steps, end finished cadences (recycle on "
        "no response), open outcome checks that fall due.",
    ),
    PeriodicJob(
        name="nurture-enroll",
        func="leadrefinery.nurture.sweep.nurture_enroll",
        minutes=10,
        description="Enroll leads that meet a nurture program's entry rules.",
    ),
    PeriodicJob(
        name="nurture-send",
        func="leadrefinery.nurture.sweep.nurture_send_due",
        minutes=1,
        description="Send the nurture emails that are due (claimed per row, retried with "
        "backoff); take leads that must leave out of their programs.",
    ),
    PeriodicJob(
        name="tracking-flush",
        func="leadrefinery.tracking.services.hits_flush",
        minutes=1,
        description="Turn buffered page visits, email opens and clicks into touches and scores.",
    ),
    PeriodicJob(
        name="hygiene-sweep",
        func="leadrefinery.review.sweep.hygiene_sweep",
        minutes=1,
        description="Work out the hygiene flags of the leads that are due (changed, or a flag "
        "starts or ends by the clock) for the lead list and the weekly review.",
    ),
    PeriodicJob(
        name="rollup-sweep",
        func="leadrefinery.reports.rollup.rollup_sweep",
        minutes=1,
        description="Count the leads that changed (and new ones) again in the report rollups.",
    ),
    PeriodicJob(
        name="review-digest",
        func="leadrefinery.review.services.review_digest_sweep",
        minutes=15,
        description="Email each rep their review agenda and each manager the team summary, "
        "the day before the weekly lead review.",
    ),
    PeriodicJob(
        name="scoring-predict",
        func="leadrefinery.scoring.predict.predict_sweep",
        minutes=1,
        description="Give new leads, and leads whose engagement or fields changed, the active "
        "model's predicted readiness with its reasons (all open leads after a model is "
        "activated), in chunks.",
    ),
    PeriodicJob(
        name="backup",
        func="leadrefinery.common.backup.scheduled_backup",
        minutes=1440,
        description="Back up the database, uploads and secret key into REFINERY_BACKUP_DIR and "
        "keep the newest REFINERY_BACKUP_KEEP archives (off when no folder is set).",
    ),
    PeriodicJob(
        name="scoring-decay",
        func="leadrefinery.scoring.services.decay_sweep",
        minutes=1440,
        description="Decay engagement scores that are due (half-lives) and cool expired hand-raisers.",
    ),
    PeriodicJob(
        name="limits-prune",
        func="leadrefinery.tracking.limits.counters_prune",
        minutes=60,
        description="Delete expired per-address rate-limit counters and used form tokens.",
    ),
    PeriodicJob(
        name="privacy-retention",
        func="leadrefinery.privacy.retention.retention_sweep",
        minutes=1440,
        description="Erase the raw inquiry payloads of leads closed longer ago than "
        "REFINERY_RAW_PAYLOAD_RETENTION_MONTHS (does nothing when it is unset).",
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
