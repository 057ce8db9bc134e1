"""The SQLite database (people's details, sessions) and the secret key are readable by their
owner only, from the first `refinery` command on; an older world-readable file is tightened."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _refinery(home: Path, *args: str) -> None:
    env = {**os.environ, "REFINERY_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    env.pop("REFINERY_SECRET_KEY", None)
    env.pop("DJANGO_SECRET_KEY", None)
    done = subprocess.run(
        [sys.executable, "-m", "leadrefinery", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_installation_keeps_its_files_to_its_owner(tmp_path):
    home = tmp_path / "home"
    old = os.umask(0o022)  # the usual umask, which would give 0644
    try:
        _refinery(home, "migrate", "--no-input")
    finally:
        os.umask(old)
    assert _mode(home / "refinery.sqlite3") == 0o600
    assert _mode(home / "secret_key") == 0o600
    assert _mode(home) == 0o700
    for extra in ("refinery.sqlite3-wal", "refinery.sqlite3-shm"):
        if (home / extra).exists():
            assert _mode(home / extra) == 0o600, extra


def test_an_existing_world_readable_database_is_tightened(tmp_path):
    home = tmp_path / "home"
    _refinery(home, "migrate", "--no-input")
    (home / "refinery.sqlite3").chmod(0o644)
    _refinery(home, "check")
    assert _mode(home / "refinery.sqlite3") == 0o600
