from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from leadrefinery.accounts.models import Role
from leadrefinery.demo.loader import (
    DemoConflict,
    DemoReport,
    demo_load,
    demo_users_present,
)
from leadrefinery.leads.domain import Stage


class Command(BaseCommand):
    help = (
        "Load demo data: six users with known passwords (printed at the end), sources and "
        "campaigns with costs, and a few hundred realistic inquiries from the last two months, "
        "sent through the real intake and worked through the real lead services (hand-offs, "
        "follow-up touches, opportunities, wins, losses, recycling). A few inquiries are "
        "duplicates or invalid on purpose. Does nothing when the demo users exist already. "
        "For trying Lead Refinery on your own machine only: the passwords are public."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--leads",
            type=int,
            default=300,
            help="number of inquiries to load (default 300)",
        )
        parser.add_argument(
            "--days", type=int, default=60, help="spread them over this many days (default 60)"
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="random seed; the same seed gives the same people and histories (default 2026)",
        )

    def handle(self, *args, leads: int, days: int, seed: int, **options):
        if settings.PRODUCTION:
            raise CommandError(
                "refusing to load demo users with public passwords into a production "
                "installation (REFINERY_ENV=production)"
            )
        if leads < 1 or days < 1:
            raise CommandError("--leads and --days must be at least 1")
        if not demo_users_present():
            self.stdout.write(f"Loading {leads} demo inquiries and their histories...")
            self.stdout.flush()
        try:
            report = demo_load(seed=seed, count=leads, days=days)
        except DemoConflict as exc:
            raise CommandError(
                f"user name(s) {exc} exist but are not demo users; load the demo into a fresh "
                "database (e.g. REFINERY_HOME=./demo-data refinery migrate && ... refinery demo)"
            ) from None
        if report.already_loaded:
            self.stdout.write("The demo data is loaded already; nothing added.")
        else:
            self._summary(report)
        self._logins(report)

    def _summary(self, report: DemoReport) -> None:
        accepted = report.inquiries - report.rejected
        self.stdout.write(
            self.style.SUCCESS(f"Loaded {report.inquiries} demo inquiries through the intake:")
        )
        self.stdout.write(
            f"  {accepted} accepted: {report.new_leads} new leads, {report.attached} added to "
            "the open lead of the same person as another touch"
        )
        self.stdout.write(f"  {report.rejected} rejected as invalid (kept as raw intake records)")
        stages = ", ".join(
            f"{stage.label} {report.by_stage[stage]}"
            for stage in Stage
            if report.by_stage.get(stage)
        )
        self.stdout.write(f"  Leads by stage: {stages}")
        self.stdout.write(
            f"  {report.nurtured} leads enrolled in the nurture program 'Warehouse tips every two "
            "weeks' (paused: switch it on at /nurture/ once REFINERY_SMTP_HOST is set)"
        )

    def _logins(self, report: DemoReport) -> None:
        roles = dict(Role.choices)
        rows = [("Username", "Password", "Role", "Team")]
        rows += [(u.username, u.password, roles[u.role], u.teams_label) for u in report.users]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        self.stdout.write("")
        self.stdout.write(f"Open {settings.SITE_URL}/login/ and sign in with a demo login:")
        self.stdout.write("")
        for number, row in enumerate(rows):
            self.stdout.write(
                "  "
                + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )
            if number == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))
        self.stdout.write("")
        self.stdout.write(
            "These passwords are public: keep the demo on your own machine "
            "(`refinery serve` listens on 127.0.0.1 only)."
        )
