from django.core.management.base import BaseCommand

from leadrefinery.reports.rollup import rebuild, rollup_sweep


class Command(BaseCommand):
    help = (
        "Recompute the report rollups from the raw leads, touches and timelines. Run it once "
        "after an upgrade that adds reports, after changing exchange rates or disposition "
        "reasons, or to check the rollups (the worker keeps them current otherwise). "
        "With --sweep, only count again the leads that changed since the last sweep."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sweep", action="store_true", help="only the due leads (what the worker does)"
        )
        parser.add_argument(
            "--batch", type=int, default=2000, help="leads read per transaction (default 2000)"
        )

    def handle(self, *args, **o):
        if o["sweep"]:
            done = rollup_sweep()
            self.stdout.write(f"Rollup sweep: {done} lead(s) counted again.")
            return

        def progress(done: int) -> None:
            if done % 50000 < o["batch"]:
                self.stdout.write(f"  {done:,} leads ...")

        done = rebuild(batch=o["batch"], progress=progress)
        self.stdout.write(f"Report rollups rebuilt from {done:,} lead(s).")
