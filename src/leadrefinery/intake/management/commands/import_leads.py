from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from leadrefinery.accounts.models import User
from leadrefinery.common.errors import ServiceError
from leadrefinery.intake.import_planner import MATCHING_AND_IMPORTING
from leadrefinery.intake.importing import (
    ImportFailed,
    ImportReport,
    fields_create,
    import_csv,
    import_resume,
    inspect_csv,
    propose_fields,
    write_error_csv,
)
from leadrefinery.leads.actors import Actor

# No monitor thread behind the progress bars (they are updated at every chunk or batch):
# a process running a second thread does its work on the other core in a new interpreter
# instead of a fork of itself (common/forking.py), which costs a second or more to start.
tqdm.monitor_interval = 0


class Command(BaseCommand):
    # No system checks before the import: they load the URL configuration and the API (half
    # a second of every `refinery import`, which serves no page). `refinery check` runs them.
    requires_system_checks: list[str] = []
    help = (
        "Import leads from a CSV file or an Excel workbook (.xlsx) (run as `refinery import FILE "
        "--source NAME`). Headers are mapped automatically, including Salesforce, HubSpot and "
        "Mautic exports. CSV: UTF-8 (with or without Excel's BOM), UTF-16 or Windows-1252, "
        "comma, semicolon, tab or | separated; a quote never closed rejects its row only. .xlsx: "
        "the first worksheet with data, cells as Excel shows them (an old .xls: save it as .xlsx "
        "or CSV first). A row is rejected when a given email or "
        "phone is invalid, or when it has neither; every rejected row is reported with its row "
        "number, column and message while the good rows import. Prints the batch id before the "
        "first row is stored: `refinery import-undo BATCH` reverts exactly that import, and "
        "`refinery import --resume BATCH` continues it if it stopped (each row imported once). "
        "Importing a file that a batch already holds is refused unless --again is given. Exits "
        "non-zero only when the file cannot be imported at all."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Show the name users type: `refinery import`, not the module name.
        if subcommand == "import_leads" and prog_name.endswith("refinery"):
            subcommand = "import"
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            nargs="?",
            help="the CSV or .xlsx file (told apart by its content); the first non-empty row "
            "holds the headers (with --resume: default, the file the batch was importing)",
        )
        parser.add_argument(
            "--resume",
            metavar="BATCH",
            help="continue this batch, whose import stopped (killed, crashed): rows already "
            "processed are skipped, stored ones are processed, the rest imported",
        )
        parser.add_argument(
            "--again",
            action="store_true",
            help="import the file even though a batch already holds it (every row is added "
            "a second time)",
        )
        parser.add_argument(
            "--source",
            metavar="NAME",
            help="where these leads came from (e.g. 'Expo 2026'); created if new",
        )
        parser.add_argument(
            "--campaign", metavar="NAME", help="campaign of that source; created if new"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check every row and show what would happen; writes nothing to the database",
        )
        parser.add_argument(
            "--errors",
            metavar="OUT.csv",
            help="write the rejected rows here (a CSV file, also for an .xlsx import), with row, "
            "column and error columns, to fix and import again",
        )
        parser.add_argument(
            "--user",
            metavar="NAME",
            help="record this user as the one who imported (default: the system)",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=None,
            help="rows stored and processed per transaction (default 500; a resume keeps the "
            "batch's own)",
        )
        parser.add_argument(
            "--show-errors",
            type=int,
            default=20,
            metavar="N",
            help="how many rejected rows to print (default 20; --errors writes them all)",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="do not show the progress bar"
        )
        parser.add_argument(
            "--create-fields",
            action="store_true",
            help="create a custom field for each column that maps to nothing (its kind read "
            "from its values), then import them into it; with --dry-run, the fields are "
            "created and nothing else is written",
        )

    def handle(self, *args, **o):
        if not o["resume"] and not o["file"]:
            raise CommandError(
                "name the CSV or .xlsx file to import (or --resume BATCH)", returncode=2
            )
        if not o["resume"] and not o["source"]:
            raise CommandError("name the source of these leads with --source NAME", returncode=2)
        if o["resume"] and o["dry_run"]:
            raise CommandError("--resume and --dry-run do not go together", returncode=2)
        actor = Actor.system("import")
        if o["user"]:
            user = User.objects.filter(username=o["user"]).first()
            if user is None:
                raise CommandError(f"no user named '{o['user']}'")
            actor = Actor.of(user)
        with contextlib.ExitStack() as stack:
            errors_out = None
            if o["errors"]:
                try:  # fail before importing rather than after
                    errors_out = stack.enter_context(
                        Path(o["errors"]).open("w", newline="", encoding="utf-8")
                    )
                except OSError as exc:
                    raise CommandError(
                        f"cannot write the error file {o['errors']}: {exc}"
                    ) from None
            report = self._run(actor, o)
            if errors_out is not None:
                written = write_error_csv(report, errors_out)
                self.stdout.write(f"Rejected rows written to {o['errors']} ({written} rows).")

    def _started(self, batch_id: str) -> None:
        # Printed (and flushed) before the first row is stored: if the import dies, this is
        # the id to resume or undo.
        self.stdout.write(
            f"Batch id: {batch_id} (if the import stops, `refinery import --resume {batch_id}` "
            "continues it)"
        )
        self.stdout.flush()

    def _resume(self, actor: Actor, o) -> ImportReport:
        bar = tqdm(unit=" rows", file=sys.stderr, disable=True if o["no_progress"] else None)
        try:
            report = import_resume(
                batch_id=o["resume"],
                actor=actor,
                file=o["file"],
                chunk_size=o["chunk_size"],
                progress=bar.update,
                phase=lambda name: _restart(bar, _PHASES.get(name, name.capitalize())),
            )
        except ImportFailed as exc:
            raise CommandError(exc.message) from None
        finally:
            bar.close()
        self.stdout.write(
            f"Resumed batch {report.batch_id}: {report.skipped} of {report.total_rows} rows were "
            "already imported before it stopped."
        )
        self._summary(report, o["show_errors"], o["errors"])
        return report

    def _run(self, actor: Actor, o) -> ImportReport:
        if o["resume"]:
            return self._resume(actor, o)
        try:
            preview = inspect_csv(o["file"])
        except ImportFailed as exc:
            raise CommandError(exc.message) from None
        if o["create_fields"]:
            proposals = propose_fields(o["file"])
            if proposals:
                try:
                    names = fields_create(proposals)
                except ServiceError as exc:
                    raise CommandError(f"cannot create the custom fields: {exc.message}") from None
                self.stdout.write(
                    "Created custom fields: "
                    + ", ".join(
                        f"{p.header} -> {n} ({p.kind})"
                        for p, n in zip(proposals, names, strict=True)
                    )
                )
                preview = inspect_csv(o["file"])  # the columns now map to the new fields
        mapping = preview.mapping
        self.stdout.write(f"{preview.name}: {preview.total_rows} rows.")
        if mapping.flavor:
            self.stdout.write(f"Recognised a {mapping.flavor.capitalize()} export.")
        self.stdout.write("Columns:")
        for header, name in mapping.mapping.items():
            self.stdout.write(f"  {header} -> {name}")
        if mapping.unmapped_headers:
            self.stdout.write(
                "Not mapped (kept with each raw row): " + ", ".join(mapping.unmapped_headers)
            )
            proposals = propose_fields(o["file"])
            if proposals:
                self.stdout.write(
                    "They could become custom fields (--create-fields creates them): "
                    + ", ".join(f"{p.header} -> {p.name} ({p.kind})" for p in proposals)
                )
        for note in preview.notes:
            self.stdout.write(f"Note: {note}")
        bar = tqdm(
            total=preview.total_rows,
            unit=" rows",
            file=sys.stderr,
            disable=True if o["no_progress"] else None,  # None: off when not a terminal
            desc="Checking" if o["dry_run"] else "Importing",
        )
        try:
            report = import_csv(
                o["file"],
                source_name=o["source"],
                campaign_name=o["campaign"],
                dry_run=o["dry_run"],
                actor=actor,
                chunk_size=o["chunk_size"] or 500,
                again=o["again"],
                progress=bar.update,
                started=self._started,
                phase=lambda name: _restart(bar, _PHASES.get(name, name.capitalize())),
            )
        except ImportFailed as exc:
            raise CommandError(exc.message) from None
        finally:
            bar.close()
        self._summary(report, o["show_errors"], o["errors"])
        return report

    def _summary(self, report: ImportReport, show: int, errors_file: str | None) -> None:
        w = self.stdout.write
        if report.dry_run:
            w(
                f"Dry run, nothing was written. Of {report.total_rows} rows, {report.imported} "
                f"would import ({report.new_leads} new leads, {report.attached} added to open "
                f"leads) and {report.rejected} would be rejected."
            )
        else:
            w(
                self.style.SUCCESS(
                    f"Imported {report.imported} of {report.total_rows} rows: "
                    f"{report.new_leads} new leads, {report.attached} added to open leads, "
                    f"{report.rejected} rejected."
                )
            )
        w(
            f"People{' (would be)' if report.dry_run else ''}: {report.people_new} new, "
            f"{report.people_attached} matched to known people, {report.review} of the new "
            "with a possible duplicate for review (refinery dedupe-scan / Duplicates page)."
        )
        more = "" if errors_file else " (use --errors OUT.csv to get them all)"
        for title, rows, after in (
            ("Rejected rows (row, column: problem):", report.errors, more),
            ("Imported with a note (row, column: note):", report.warnings, ""),
        ):
            if not rows:
                continue
            w(title)
            for row in rows[: max(0, show)]:
                column = f", {row.column}" if row.column else ""
                w(f"  row {row.row}{column}: {row.message}")
            hidden = len(rows) - max(0, show)
            if hidden > 0:
                w(f"  ... and {hidden} more{after}")
        if report.batch_id:
            w(f"Batch id: {report.batch_id}")
            w(f"To revert this import: refinery import-undo {report.batch_id}")


_PHASES = {MATCHING_AND_IMPORTING: "Matching and importing"}


def _restart(bar: tqdm, description: str) -> None:
    """A new pass over the file: the bar starts again under a new name."""
    bar.reset()
    bar.set_description(description)
