from django.core.management.base import BaseCommand, CommandError

from leadrefinery.accounts.models import User
from leadrefinery.leads.actors import Actor
from leadrefinery.routing.services import rep_deactivate


class Command(BaseCommand):
    help = (
        "Deactivate a user (a rep who left) and reassign every open lead they own through the "
        "routing rules, each with a trace on the lead; leads no rule can place go to the "
        "unassigned queue. Example: refinery deactivate-rep ron --reason 'left the company'."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="the user to deactivate")
        parser.add_argument("--reason", default="", help="recorded on every reassigned lead")

    def handle(self, *args, **o):
        user = User.objects.filter(username=o["username"]).first()
        if user is None:
            raise CommandError(f"no user named {o['username']!r}")
        result = rep_deactivate(
            user=user, actor=Actor.system("cli:deactivate-rep"), reason=o["reason"]
        )
        self.stdout.write(
            f"{user.username} is deactivated; {result.leads} open lead(s) reassigned through "
            "the rules."
        )
        for destination in result.destinations:
            self.stdout.write(f"  {destination.leads} to {destination.label}")
        for warning in result.warnings():
            self.stderr.write(f"Warning: {warning}")
