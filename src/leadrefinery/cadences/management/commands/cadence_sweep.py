from django.core.management.base import BaseCommand

from leadrefinery.cadences.sweep import cadence_sweep


class Command(BaseCommand):
    help = (
        "Do the cadence work that is due now: tell reps about overdue follow-up steps, end "
        "cadences whose last step is done (recycling leads that never answered), and open the "
        "12-month outcome checks that fall due. The worker runs this every few minutes; safe to "
        "run by hand at any time, twice, or next to the worker: each row is claimed first."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=500, help="rows read per round (default 500)"
        )

    def handle(self, *args, **o):
        done = cadence_sweep(limit=o["limit"])
        self.stdout.write(f"Cadence sweep: {done} due item(s) handled.")
