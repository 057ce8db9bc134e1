"""`refinery backup` and `refinery restore` as an operator runs them, on real processes: a
backup taken while an import writes, restored into an empty installation, holds every lead of
the backup's moment, passes `refinery check`, and the app starts on it; a backup made by a
newer version, or a damaged one, is refused."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_serve_worker import (
    _django,
    _free_port,
    _get,
    _kill_leftovers,
    _start,
    _stop,
    _wait_for,
    _with_database,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc"),
]


def _refinery(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "leadrefinery", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def installations(tmp_path: Path) -> Iterator[list[dict[str, str]]]:
    """Two installations of their own (data folder, and database under DATABASE_URL): the
    first migrated, the second empty, as a new machine is before a restore."""
    base_url = os.environ.get("DATABASE_URL")
    databases: list[str] = []
    envs = []
    for i in range(2):
        home = tmp_path / f"home{i}"
        env = dict(os.environ, REFINERY_HOME=str(home), PYTHONUNBUFFERED="1", REFINERY_WORKERS="1")
        env.pop("REFINERY_DEBUG", None)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env.pop("REFINERY_SECRET_KEY", None)
        if base_url:
            import psycopg

            name = f"refinery_backup_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(_with_database(base_url, "postgres"), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            databases.append(name)
            env["DATABASE_URL"] = _with_database(base_url, name)
        envs.append(env)
    try:
        migrate = _refinery(envs[0], "migrate", "--no-input")
        assert migrate.returncode == 0, migrate.stderr
        yield envs
    finally:
        for env in envs:
            _kill_leftovers(env["REFINERY_HOME"])
        if databases:
            import psycopg

            with psycopg.connect(_with_database(base_url or "", "postgres"), autocommit=True) as c:
                for name in databases:
                    c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


COUNT = """
from leadrefinery.common.backup import COUNTED
from django.db import connection
with connection.cursor() as c:
    out = {}
    for name in COUNTED:
        c.execute(f"SELECT COUNT(*) FROM {name}")
        out[name] = c.fetchone()[0]
print(json.dumps(out))
"""


def _counts(env: dict[str, str]) -> dict[str, int]:
    return json.loads(_django(env, "import json\n" + COUNT).splitlines()[-1])


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        return json.load(member)


def test_a_backup_taken_during_an_import_restores_every_lead_of_its_moment(installations, tmp_path):
    source, target = installations
    rows = ["Email,First Name,Last Name,Company"]
    rows += [f"buyer{i}@firm{i % 300}.example,Pat,Buyer{i},Firm {i % 300}" for i in range(4000)]
    listing = tmp_path / "list.csv"
    listing.write_text("\n".join(rows) + "\n")
    uploads = Path(source["REFINERY_HOME"]) / "uploads" / "forms"
    uploads.mkdir(parents=True)
    (uploads / "logo.txt").write_text("a file a user uploaded")

    log = tmp_path / "import.log"
    importing = _start(source, log, "import", str(listing), "--source", "Expo", "--no-progress")
    # Back up once the import has written some leads, while it goes on writing.
    _wait_for(lambda: _counts(source)["leads_lead"] > 0, 120, "the import's first leads")
    archive = tmp_path / "backups" / "during-import.tar.gz"
    made = _refinery(source, "backup", str(archive))
    assert made.returncode == 0, made.stderr
    assert importing.wait(timeout=600) == 0, log.read_text()[-2000:]
    manifest = _manifest(archive)
    at_backup = manifest["counts"]
    assert at_backup["leads_lead"] > 0, at_backup
    assert oct(archive.stat().st_mode & 0o777) == "0o600", "it holds people's data"

    # The new machine was migrated first, as an operator might: still empty, so it restores.
    assert _refinery(target, "migrate", "--no-input").returncode == 0
    restored = _refinery(target, "restore", str(archive))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "All lead invariants hold." in restored.stdout
    assert _counts(target) == at_backup, "every row of the backup's moment, and only those"
    assert (Path(target["REFINERY_HOME"]) / "uploads" / "forms" / "logo.txt").read_text() == (
        "a file a user uploaded"
    )
    assert (Path(target["REFINERY_HOME"]) / "secret_key").read_text() == (
        Path(source["REFINERY_HOME"]) / "secret_key"
    ).read_text(), "sessions and signed links stay valid"

    # The app starts on the restored installation.
    port = _free_port()
    serve = _start(target, tmp_path / "serve.log", "serve", "--port", str(port))
    try:
        health = _wait_for(lambda: _get(f"http://127.0.0.1:{port}/healthz"), 90, "the app")
        assert isinstance(health, tuple) and health[0] == 200
    finally:
        _stop(serve)

    # Restoring again over the leads is refused unless asked for.
    again = _refinery(target, "restore", str(archive))
    assert again.returncode != 0
    assert "already holds leads" in again.stderr
    # The full import is in the source, the backup's moment in the target.
    assert _counts(source)["leads_lead"] >= at_backup["leads_lead"]


def test_a_newer_or_damaged_backup_is_refused(installations, tmp_path):
    source, target = installations
    archive = tmp_path / "b.tar.gz"
    assert _refinery(source, "backup", str(archive)).returncode == 0

    def rewrite(out: Path, change) -> Path:
        with tarfile.open(archive, "r:gz") as tar, tarfile.open(out, "w:gz") as new:
            for member in tar.getmembers():
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                data = change(member.name, data)
                member.size = len(data)
                new.addfile(member, io.BytesIO(data))
        return out

    def newer(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["migrations"].append(["leads", "9999_from_the_future"])
        return json.dumps(manifest).encode()

    refused = _refinery(target, "restore", str(rewrite(tmp_path / "newer.tar.gz", newer)))
    assert refused.returncode != 0
    assert "made by a newer version" in refused.stderr and "leads.9999_from_the_future" in (
        refused.stderr
    )

    def damaged(name: str, data: bytes) -> bytes:
        return data[:-10] + b"0123456789" if name.startswith("database") else data

    broken = _refinery(target, "restore", str(rewrite(tmp_path / "damaged.tar.gz", damaged)))
    assert broken.returncode != 0
    assert "does not match its checksum" in broken.stderr
    # Nothing was restored by the refused ones: the target still takes the good archive.
    assert _refinery(target, "restore", str(archive)).returncode == 0
