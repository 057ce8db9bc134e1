from django.core.management.base import BaseCommand, CommandError

from leadrefinery.accounts.models import ApiToken, User
from leadrefinery.accounts.services import (
    ALL_SCOPES,
    DEFAULT_SCOPES,
    token_create,
    token_revoke,
)


class Command(BaseCommand):
    help = (
        "Manage API tokens. `refinery token create --user NAME [--name N] [--scope S ...]` prints "
        "a new secret once; `refinery token list [--user NAME]`; `refinery token revoke PREFIX`."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print its secret once")
        create.add_argument("--user", required=True, help="the user the token acts as")
        create.add_argument("--name", default="", help="a label, e.g. 'website form relay'")
        create.add_argument(
            "--scope",
            action="append",
            choices=ALL_SCOPES,
            help="a scope the token gets; repeat for several (default: "
            f"{', '.join(DEFAULT_SCOPES)} only; see docs/api.md)",
        )
        listing = sub.add_parser("list", help="list tokens (never their secrets)")
        listing.add_argument("--user")
        revoke = sub.add_parser("revoke", help="revoke a token by the prefix shown in `list`")
        revoke.add_argument("prefix")

    def handle(self, *args, **o):
        action = o["action"]
        if action == "create":
            user = User.objects.filter(username=o["user"]).first()
            if user is None:
                raise CommandError(f"no user named {o['user']!r}")
            try:
                issued = token_create(user=user, name=o["name"], scopes=o["scope"])
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(issued.secret)
            self.stderr.write(
                f"Token '{issued.token.name}' for {user.username} with scopes "
                f"{', '.join(issued.token.scopes)}; store it now, it is not shown again."
            )
        elif action == "list":
            qs = ApiToken.objects.select_related("user")
            if o["user"]:
                qs = qs.filter(user__username=o["user"])
            for t in qs:
                state = "revoked" if t.revoked_at else "active"
                self.stdout.write(
                    f"{t.prefix}  {t.user.username:<16} {state:<8} {','.join(t.scopes):<40} {t.name}"
                )
        else:
            matches = list(ApiToken.objects.filter(prefix=o["prefix"]))
            if len(matches) != 1:
                raise CommandError(
                    f"{len(matches)} tokens match prefix {o['prefix']!r}; need exactly one"
                )
            token_revoke(token=matches[0])
            self.stdout.write(f"Revoked {matches[0]}.")
