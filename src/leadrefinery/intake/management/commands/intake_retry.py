from django.core.management.base import BaseCommand

from leadrefinery.intake.services import intake_retry_sweep


class Command(BaseCommand):
    help = (
        "Process intake records that were stored but not processed (after a crash or an error). "
        "Safe to run at any time and concurrently; the worker runs it every minute."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=int, default=None, help="seconds since receipt (default: setting)"
        )

    def handle(self, *args, **o):
        done = intake_retry_sweep(older_than_seconds=o["older_than"])
        self.stdout.write(f"Processed {done} waiting intake record(s).")
