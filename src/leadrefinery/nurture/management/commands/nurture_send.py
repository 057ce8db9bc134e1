from datetime import timedelta

from django.core.management.base import BaseCommand

from leadrefinery.nurture.dispatch import nurture_dispatch
from leadrefinery.nurture.sweep import nurture_enroll


class Command(BaseCommand):
    help = (
        "Enroll leads that meet a nurture program's entry rules and send the nurture emails "
        "that are due. Safe to run at any time, twice, or next to the worker (which runs it "
        "every minute): each email row is claimed before it is sent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=100, help="rows claimed per round")
        parser.add_argument(
            "--all", action="store_true", help="keep going in rounds until nothing is due"
        )
        parser.add_argument(
            "--no-enroll", action="store_true", help="only send; do not enroll new leads"
        )
        parser.add_argument(
            "--lease-seconds",
            type=int,
            default=300,
            help="how long a claimed row is ours before another worker may take it (default 300)",
        )

    def handle(self, *args, **o):
        enrolled = 0 if o["no_enroll"] else nurture_enroll()
        lease = timedelta(seconds=o["lease_seconds"])
        totals = {"sent": 0, "failed": 0, "dead": 0, "skipped": 0, "deferred": 0}
        while True:
            result = nurture_dispatch(limit=o["limit"], lease=lease)
            for name in totals:
                totals[name] += getattr(result, name)
            if not o["all"] or result.total == 0:
                break
        self.stdout.write(
            f"Enrolled {enrolled} lead(s). Sent {totals['sent']}; {totals['failed']} failed and "
            f"will be retried; {totals['dead']} gave up; {totals['skipped']} skipped; "
            f"{totals['deferred']} wait for their send window or the frequency cap."
        )
