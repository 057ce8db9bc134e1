import getpass

from django.core.management.base import BaseCommand, CommandError

from leadrefinery.accounts.models import Role, Team
from leadrefinery.accounts.services import user_create


class Command(BaseCommand):
    help = "Create a user with a role (rep, manager, marketer, admin). Example: refinery createuser ana --role rep"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--password",
            help="omit to be asked (or to create a user who cannot log in with --no-password)",
        )
        parser.add_argument(
            "--no-password", action="store_true", help="create without a password (API-only user)"
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--team", help="team name (created if missing)")
        parser.add_argument("--time-zone", default="UTC", help="IANA time zone, e.g. Europe/Berlin")

    def handle(self, *args, **o):
        password = o["password"]
        if not password and not o["no_password"]:
            password = getpass.getpass("Password: ")
        team = Team.objects.get_or_create(name=o["team"])[0] if o["team"] else None
        try:
            user = user_create(
                username=o["username"],
                role=o["role"],
                password=password,
                email=o["email"],
                first_name=o["first_name"],
                last_name=o["last_name"],
                team=team,
                time_zone=o["time_zone"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Created {user.get_role_display().lower()} {user.username}.")
        )
