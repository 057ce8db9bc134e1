from django.core.management.base import BaseCommand

from leadrefinery.tracking.services import hits_flush


class Command(BaseCommand):
    help = (
        "Turn the page visits, email opens and clicks buffered by tracking into touches and "
        "engagement on their leads now. The web process flushes them about once a second and the worker "
        "regularly; run this by hand after an outage or before a report. Safe to repeat."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=1000, help="hits processed per batch (default 1000)"
        )

    def handle(self, *args, **o):
        done = hits_flush(limit=o["limit"])
        self.stdout.write(f"Tracking flush: {done} buffered hit(s) processed.")
