from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from leadrefinery.common import backup


class Command(BaseCommand):
    help = (
        "Restore an archive made by `refinery backup` into this installation (REFINERY_HOME "
        "and DATABASE_URL as set): checks the archive's checksums, refuses a backup made by a "
        "newer version (upgrade first) or of another database kind, refuses an installation "
        "that already holds leads unless --replace, puts the database, uploads and secret key "
        "in place, migrates an older schema forward and ends with `refinery check`."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .tar.gz archive to restore")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="overwrite an installation that already holds leads (they are lost)",
        )

    def handle(self, *args, file, replace=False, **options):
        archive = Path(file)
        if not archive.is_file():
            raise CommandError(f"no such file: {archive}")
        try:
            manifest = backup.restore(archive, replace=replace)
        except backup.BackupError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Restored {archive.name}:")
        for line in backup.describe(manifest):
            self.stdout.write(line)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Migrations are up to date.")
        call_command("checkleads", stdout=self.stdout, stderr=self.stderr)
