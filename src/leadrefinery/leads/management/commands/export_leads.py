import sys

from django.core.management.base import BaseCommand, CommandError

from leadrefinery.accounts.models import User
from leadrefinery.leads.access import visible_to
from leadrefinery.leads.export import csv_lines
from leadrefinery.leads.selectors import leads_filtered, owner_filter


class Command(BaseCommand):
    help = (
        "Export leads as CSV, exactly the leads USER may see. Example: "
        "refinery export-leads --user maria --stage open --output open-leads.csv"
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="export what this user may see")
        parser.add_argument(
            "--stage", action="append", help="stage code, 'open' or 'closed' (repeatable)"
        )
        parser.add_argument("--owner", help="username or queue:<slug>")
        parser.add_argument("--source", help="source name")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")

    def handle(self, *args, **o):
        user = User.objects.filter(username=o["user"]).first()
        if user is None:
            raise CommandError(f"no user named {o['user']!r}")
        owner = owner_filter(o["owner"], user=user)
        leads = leads_filtered(
            visible_to(user),
            stages=o["stage"],
            owner_user=owner.get("owner_user"),
            owner_queue=owner.get("owner_queue"),
            source=o["source"],
        )
        out = open(o["output"], "w", newline="", encoding="utf-8") if o["output"] else sys.stdout  # noqa: SIM115
        count = -1
        try:
            for count, line in enumerate(csv_lines(leads)):  # noqa: B007
                out.write(line)
        finally:
            if o["output"]:
                out.close()
        self.stderr.write(f"Exported {max(count, 0)} lead(s).")
