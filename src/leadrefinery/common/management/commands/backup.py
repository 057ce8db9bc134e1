from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from leadrefinery.common import backup


class Command(BaseCommand):
    help = (
        "Back up this installation into one .tar.gz archive: the database (SQLite: an online, "
        "consistent copy taken while the app goes on writing; PostgreSQL: pg_dump on one "
        "snapshot), the uploads and the secret key, with a manifest (version, applied "
        "migrations, row counts, checksums). The archive holds people's data and the secret "
        "key: keep it as safe as the database. Restore with `refinery restore FILE`."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "dest",
            nargs="?",
            help="the archive to write, or a folder to write a dated archive in (default: "
            "REFINERY_HOME/backups)",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=0,
            help="then remove all but the newest KEEP archives in that folder (0: keep all)",
        )

    def handle(self, *args, dest=None, keep=0, **options):
        try:
            path, manifest = backup.backup(Path(dest) if dest else None)
        except backup.BackupError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Wrote {path} ({path.stat().st_size:,} bytes):")
        for line in backup.describe(manifest):
            self.stdout.write(line)
        if keep:
            removed = backup.prune(path.parent, keep)
            if removed:
                self.stdout.write(f"Removed {len(removed)} older archive(s).")
