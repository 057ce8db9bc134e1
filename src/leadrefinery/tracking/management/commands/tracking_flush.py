from django.core.management.base import BaseCommand

from leadrefinery.tracking.services import hits_flush


class Command(BaseCommand):
    help = (
        "Turn the page visits, email opens and clicks buffered by tracking into touches and "
        "engagement on their leads now. The worker does this every minute (web processes too "
        "when REFINERY_TRACKING_FLUSH_SECONDS is set); run it by hand when no worker runs, after "
        "an outage, or before a report. Safe to repeat: each hit is processed once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=1000, help="hits processed per batch (default 1000)"
        )

    def handle(self, *args, **o):
        done = hits_flush(limit=o["limit"])
        self.stdout.write(f"Tracking flush: {done} buffered hit(s) processed.")
