from django.core.management import call_command
from django.core.management.base import BaseCommand

from leadrefinery.common.jobs import REGISTRY, sync_schedules


class Command(BaseCommand):
    help = (
        "Run the background worker alone: a django-q2 cluster that takes its tasks from the "
        "database (no Redis needed) and runs the periodic jobs (intake retry, ...). "
        "Makes the job schedule match the built-in list first. `refinery serve` starts one "
        "for you; run this yourself when the web server runs elsewhere. Stop it with Ctrl-C "
        "or SIGTERM: running tasks finish first. Worker processes: REFINERY_WORKERS (default 2)."
    )

    def handle(self, *args, **options):
        # The schedule lives in the database; syncing it at every start means an upgrade
        # that adds or renames a job needs no extra step.
        names = sync_schedules()
        jobs = {job.name: job for job in REGISTRY}
        for name in names:
            job = jobs[name]
            self.stdout.write(f"Periodic job '{name}' every {job.minutes} min: {job.description}")
        self.stdout.flush()
        call_command("qcluster")
