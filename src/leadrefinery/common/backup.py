"""Backup and restore of a whole installation: the database, the uploads and the secret key,
as one ``.tar.gz`` archive with a manifest (``refinery backup``, ``refinery restore``).

- **SQLite**: SQLite's online backup API copies a consistent snapshot while the app goes on
  writing (in WAL mode readers never block the writer); the manifest's counts are read from
  that copy, so they are the counts of the backup's moment.
- **PostgreSQL**: ``pg_dump`` in its custom format, run on a snapshot exported by a
  REPEATABLE READ transaction that also reads the counts, so that counts and dump agree.
  ``pg_dump`` and ``pg_restore`` must be installed (a clear error says so when they are not).

The manifest records the format, the app's version, the database kind, every applied
migration, the row counts of the tables that hold the pipeline, and a SHA-256 of every file
in the archive. Restore refuses an archive whose checksums fail, one made by a newer version
of the code (a migration this code does not know), and a target that already holds data
(unless told to replace it); it migrates an older schema forward and ends with the lead
invariants check (``refinery check``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections

from leadrefinery.common.errors import ServiceError

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
SECRET_FILE = "secret_key"
UPLOADS = "uploads"
# The tables whose counts the manifest records (what "every lead is there" is checked on).
COUNTED = (
    "leads_lead",
    "leads_person",
    "leads_account",
    "leads_intakerecord",
    "leads_leadevent",
    "leads_touch",
    "leads_importbatch",
    "notifications_outboxmessage",
)


class BackupError(ServiceError):
    """A backup or restore that cannot be done, and why."""


@dataclass(frozen=True)
class Manifest:
    data: dict[str, Any]

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.data.get("counts", {}))

    @property
    def migrations(self) -> list[list[str]]:
        return [list(m) for m in self.data.get("migrations", [])]


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("leadrefinery")
    except Exception:
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _vendor() -> str:
    return str(connection.vendor)


def _applied(cursor: Any) -> list[list[str]]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    return [[str(app), str(name)] for app, name in cursor.fetchall()]


def _counts(cursor: Any) -> dict[str, int]:
    out = {}
    for name in COUNTED:
        cursor.execute(f"SELECT COUNT(*) FROM {name}")  # names from the list above
        out[name] = int(cursor.fetchone()[0])
    return out


def default_name(at: datetime | None = None) -> str:
    at = at or datetime.now(UTC)
    return f"refinery-backup-{at:%Y%m%d-%H%M%S}.tar.gz"


def backup(dest: Path | None = None) -> tuple[Path, Manifest]:
    """Write an archive of this installation to ``dest`` (a file, or a folder to put a
    dated file in; default: REFINERY_HOME/backups). Returns its path and manifest."""
    at = datetime.now(UTC)
    if dest is None:
        dest = Path(settings.REFINERY_HOME) / "backups"
    if dest.is_dir() or not dest.suffix:
        dest.mkdir(parents=True, exist_ok=True)
        dest = dest / default_name(at)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as work:
        folder = Path(work)
        if _vendor() == "sqlite":
            applied, counts = _sqlite_dump(folder / SQLITE_FILE)
            database = SQLITE_FILE
        elif _vendor() == "postgresql":
            applied, counts = _pg_dump(folder / PG_FILE)
            database = PG_FILE
        else:
            raise BackupError(f"no backup for a {_vendor()} database")
        files = [folder / database]
        key = Path(settings.REFINERY_HOME) / SECRET_FILE
        if key.exists():
            shutil.copy2(key, folder / SECRET_FILE)
            files.append(folder / SECRET_FILE)
        uploads = Path(settings.MEDIA_ROOT)
        if uploads.is_dir():
            shutil.copytree(uploads, folder / UPLOADS)
            files += sorted(p for p in (folder / UPLOADS).rglob("*") if p.is_file())
        manifest = {
            "format": FORMAT,
            "version": _version(),
            "created_at": at.isoformat(),
            "database": _vendor(),
            "database_file": database,
            "migrations": applied,
            "counts": counts,
            "files": {str(p.relative_to(folder)): _sha256(p) for p in files},
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        partial = dest.with_name(dest.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(folder / MANIFEST, arcname=MANIFEST)
            for path in files:
                tar.add(path, arcname=str(path.relative_to(folder)))
        os.chmod(partial, 0o600)  # it holds people's data and the secret key
        partial.replace(dest)  # a half-written archive never carries the final name
    return dest, Manifest(manifest)


def _sqlite_dump(target: Path) -> tuple[list[list[str]], dict[str, int]]:
    source = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]), timeout=60)
    try:
        copy = sqlite3.connect(str(target))
        try:
            source.backup(copy)  # one step: a consistent snapshot, writers go on (WAL)
            cursor = copy.cursor()
            return _applied(cursor), _counts(cursor)
        finally:
            copy.close()
    finally:
        source.close()


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise BackupError(
            f"{tool} is not installed: a PostgreSQL backup needs the PostgreSQL client tools "
            "(Debian/Ubuntu: apt-get install postgresql-client, of the server's major version)"
        )
    return found


def _pg_env() -> tuple[list[str], dict[str, str]]:
    db = settings.DATABASES["default"]
    args = ["--dbname", str(db["NAME"])]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _pg_dump(target: Path) -> tuple[list[list[str]], dict[str, int]]:
    tool = _need("pg_dump")
    args, env = _pg_env()
    conn = connections.create_connection("default")
    try:
        conn.ensure_connection()
        raw = conn.connection
        raw.autocommit = False
        with raw.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            applied, counts = _applied(cursor), _counts(cursor)
            done = subprocess.run(
                [tool, "--format=custom", "--no-owner", f"--snapshot={snapshot}", "--file",
                 str(target), *args],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
        raw.rollback()
    finally:
        conn.close()
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
    return applied, counts


# --- restore -------------------------------------------------------------------------------


def read_manifest(archive: Path) -> Manifest:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            return Manifest(json.load(io.TextIOWrapper(member, encoding="utf-8")))
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"{archive} is not a Lead Refinery backup: {exc}") from None


def _known_migrations() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def newer_migrations(manifest: Manifest) -> list[str]:
    """The backup's applied migrations this code does not have (a newer version made it)."""
    known = _known_migrations()
    ours = {app for app, _ in known}
    return [
        f"{app}.{name}"
        for app, name in manifest.migrations
        if app in ours and (app, name) not in known
    ]


def _extract(archive: Path, folder: Path, manifest: Manifest) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(folder, filter="data")
    for name, digest in manifest.data.get("files", {}).items():
        path = folder / name
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"the archive is damaged: {name} does not match its checksum")


def _has_tables() -> bool:
    return "leads_lead" in connection.introspection.table_names()


def _has_data() -> bool:
    if not _has_tables():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM leads_lead LIMIT 1")
        return cursor.fetchone() is not None


def restore(archive: Path, *, replace: bool = False) -> Manifest:
    """Put the archive's database, uploads and secret key in place of this installation's
    (which must hold no leads unless ``replace``). The caller migrates and checks after."""
    manifest = read_manifest(archive)
    if manifest.data.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.data.get('format')!r}")
    newer = newer_migrations(manifest)
    if newer:
        raise BackupError(
            "this backup was made by a newer version of Lead Refinery (migrations this code "
            f"does not have: {', '.join(newer[:5])}); upgrade, then restore"
        )
    if manifest.data.get("database") != _vendor():
        raise BackupError(
            f"this backup holds a {manifest.data.get('database')} database and this "
            f"installation uses {_vendor()}: restore it into the same kind"
        )
    if _has_data() and not replace:
        raise BackupError(
            "this installation already holds leads: restore into an empty one (a new "
            "REFINERY_HOME or database), or pass --replace to overwrite it"
        )
    home = Path(settings.REFINERY_HOME)
    with tempfile.TemporaryDirectory(dir=home) as work:
        folder = Path(work)
        _extract(archive, folder, manifest)
        if _vendor() == "sqlite":
            _sqlite_restore(folder / SQLITE_FILE)
        else:
            # A migrated but empty database (no leads) is replaced too: its tables would
            # otherwise collide with the dump's.
            _pg_restore(folder / PG_FILE, replace=replace or _has_tables())
        key = folder / SECRET_FILE
        if key.exists() and not os.environ.get("REFINERY_SECRET_KEY"):
            shutil.copy2(key, home / SECRET_FILE)
            os.chmod(home / SECRET_FILE, 0o600)
        if (folder / UPLOADS).is_dir():
            _copy_tree(folder / UPLOADS, Path(settings.MEDIA_ROOT))
    return manifest


def _copy_tree(source: Path, target: Path) -> None:
    for path in sorted(source.rglob("*")):
        dest = target / path.relative_to(source)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)


def _sqlite_restore(source: Path) -> None:
    """Copy the archive's database into this one through the backup API (the target file
    stays where it is, so its permissions and any open WAL are handled by SQLite)."""
    connections.close_all()
    target = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]), timeout=60)
    try:
        snapshot = sqlite3.connect(str(source))
        try:
            snapshot.backup(target)
        finally:
            snapshot.close()
    finally:
        target.close()


def _pg_restore(dump: Path, *, replace: bool) -> None:
    tool = _need("pg_restore")
    args, env = _pg_env()
    connections.close_all()
    flags = ["--no-owner", "--exit-on-error"]
    if replace:
        flags += ["--clean", "--if-exists"]
    done = subprocess.run(
        [tool, *flags, *args, str(dump)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[:500]}")


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` archives in ``folder``; returns those removed."""
    archives = sorted(folder.glob("refinery-backup-*.tar.gz"))
    doomed = archives[: max(0, len(archives) - keep)]
    for path in doomed:
        path.unlink()
    return doomed


def scheduled_backup() -> str:
    """The worker's backup job: a backup into REFINERY_BACKUP_DIR, keeping the newest
    REFINERY_BACKUP_KEEP archives; nothing when no folder is set (the default)."""
    folder = getattr(settings, "REFINERY_BACKUP_DIR", "")
    if not folder:
        return "off (REFINERY_BACKUP_DIR is not set)"
    path, manifest = backup(Path(folder))
    removed = prune(Path(folder), int(getattr(settings, "REFINERY_BACKUP_KEEP", 7)))
    return f"{path.name}: {manifest.counts.get('leads_lead', 0)} leads; pruned {len(removed)}"


def describe(manifest: Manifest) -> Iterable[str]:
    data = manifest.data
    yield f"made {data.get('created_at')} by version {data.get('version')}, {data.get('database')}"
    for name, n in sorted(manifest.counts.items()):
        yield f"  {name}: {n:,}"
