from django.core.management.base import BaseCommand, CommandError

from leadrefinery.leads.selectors import invariant_violations


class Command(BaseCommand):
    help = (
        "Verify the lead invariants over the whole database: every open lead has exactly one "
        "owner and a next action with a due time; closed leads have a disposition; merged leads "
        "point at their survivor; the stage agrees with the timeline. Prints each violation and "
        "exits with status 1 if there is any. (Run as `refinery check`.)"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=0, help="stop after printing this many violations"
        )

    def handle(self, *args, limit: int = 0, **options):
        count = 0
        for violation in invariant_violations():
            count += 1
            if not limit or count <= limit:
                self.stdout.write(f"lead {violation.lead_id}: {violation.problem}")
        if count:
            raise CommandError(f"{count} invariant violation(s) found")
        self.stdout.write(self.style.SUCCESS("All lead invariants hold."))
