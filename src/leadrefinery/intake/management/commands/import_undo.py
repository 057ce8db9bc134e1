from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from leadrefinery.accounts.models import User
from leadrefinery.common.errors import ServiceError
from leadrefinery.intake.importing import import_batch_undo
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import ImportBatch


class Command(BaseCommand):
    help = (
        "Revert one CSV import batch (run as `refinery import-undo BATCH`). Nothing is deleted: "
        "the open leads the batch created are closed as disqualified with the reason 'import "
        "undone', and the rows it added to leads that already existed no longer count. Leads "
        "someone has worked since the import are kept open and listed. A batch can be undone "
        "once. `refinery import-undo --list` shows recent batches."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        if subcommand == "import_undo" and prog_name.endswith("refinery"):
            subcommand = "import-undo"
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("batch", nargs="?", help="the batch id printed by `refinery import`")
        parser.add_argument(
            "--user", metavar="NAME", help="record this user as the one who undid it"
        )
        parser.add_argument("--list", action="store_true", help="list the 20 latest batches")

    def handle(self, *args, **o):
        if o["list"]:
            return self._list()
        if not o["batch"]:
            raise CommandError("name the batch to undo (see `refinery import-undo --list`)")
        actor = Actor.system("import-undo")
        if o["user"]:
            user = User.objects.filter(username=o["user"]).first()
            if user is None:
                raise CommandError(f"no user named '{o['user']}'")
            actor = Actor.of(user)
        try:
            report = import_batch_undo(batch_id=o["batch"], actor=actor)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Undid import batch {report.batch_id}: closed {report.leads_closed} leads it "
                f"created, voided {report.touches_voided} rows it added to existing leads."
            )
        )
        if report.records_cancelled:
            self.stdout.write(
                f"{report.records_cancelled} stored rows not yet processed will not be."
            )
        if report.kept:
            self.stdout.write(f"Kept open {len(report.kept)} leads of this batch:")
            for lead_id, why in report.kept:
                self.stdout.write(f"  lead {lead_id}: {why}")

    def _list(self) -> None:
        batches = ImportBatch.objects.select_related("source")[:20]
        if not batches:
            self.stdout.write("No imports yet.")
            return
        for b in batches:
            state = f"undone {b.undone_at:%Y-%m-%d %H:%M}" if b.undone_at else "active"
            if not b.finished_at and not b.undone_at:
                state = "unfinished"
            self.stdout.write(
                f"{b.pk}  {b.created_at:%Y-%m-%d %H:%M}  {b.filename}  source {b.source.name}  "
                f"{b.imported_rows} imported, {b.rejected_rows} rejected  ({state})"
            )
