from django.core.management.base import BaseCommand

from leadrefinery.notifications.dispatch import outbox_dispatch_report


class Command(BaseCommand):
    help = (
        "Send the emails and webhooks waiting in the outbox, and retry failed ones whose retry "
        "time has come. Safe to run at any time and concurrently with the worker, which runs "
        "it every minute."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=100, help="at most this many messages per round"
        )
        parser.add_argument(
            "--all",
            action="store_true",
            help="keep going in rounds until nothing is due (default: one round)",
        )

    def handle(self, *args, **o):
        sent = failed = dead = 0
        while True:
            result = outbox_dispatch_report(limit=o["limit"])
            sent, failed, dead = sent + result.sent, failed + result.failed, dead + result.dead
            # A round that handled fewer than the limit found nothing more due.
            if not o["all"] or result.total < o["limit"]:
                break
        self.stdout.write(
            f"Sent {sent} message(s); {failed} failed and will be retried; {dead} gave up."
        )
