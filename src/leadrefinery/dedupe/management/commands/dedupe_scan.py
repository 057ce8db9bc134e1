import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from leadrefinery.dedupe.services import dedupe_scan
from leadrefinery.leads.models import Person


class Command(BaseCommand):
    help = (
        "Find possible duplicates among the people already stored and put them in the review "
        "queue (the Duplicates page, GET /api/v1/duplicates). Works in batches by blocking on "
        "the stored match keys, so it never compares all pairs; pairs once marked 'not a "
        "duplicate' are never proposed again. Merges nothing by itself. "
        "(Run as `refinery dedupe-scan`.)"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=500, help="people per batch (default 500)"
        )
        parser.add_argument(
            "--max-block",
            type=int,
            default=200,
            help="skip a block key shared by more people than this, as uninformative (default 200)",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="do not show the progress bar"
        )

    def handle(self, *args, **o):
        bar = tqdm(
            total=Person.objects.count(),
            unit="people",
            desc="dedupe-scan",
            disable=True if o["no_progress"] else None,  # None: off when not a terminal
            file=sys.stderr,
        )
        with bar:
            report = dedupe_scan(
                batch_size=max(1, o["batch_size"]),
                max_block=max(2, o["max_block"]),
                progress=bar.update,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Scanned {report.people} people with {report.comparisons} comparisons: "
                f"{report.found} possible duplicate pair(s), {report.proposed} new in the review "
                f"queue."
            )
        )
        if report.skipped_blocks:
            self.stdout.write(
                f"{report.skipped_blocks} block key(s) were too common to compare "
                "(raise --max-block to include them)."
            )
