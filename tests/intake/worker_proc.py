"""Run `refinery worker` (the django-q cluster and its periodic jobs) in a subprocess against
the test database, whose name the test runner chose and passes on the command line.
``start_worker`` and ``stop`` start and stop one from a test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

import django


def start_worker(log: IO[bytes], **env: str) -> subprocess.Popen[bytes]:
    """A `refinery worker` on the test database, in its own process group (the cluster's
    children go with it when it is stopped)."""
    from django.db import connection

    return subprocess.Popen(
        [sys.executable, __file__, str(connection.settings_dict["NAME"])],
        env=dict(os.environ, REFINERY_WORKERS="1", PYTHONUNBUFFERED="1", **env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=Path(__file__).parents[2],
    )


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the worker's process group; a cluster slow to stop is killed."""
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrefinery.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    name = sys.argv[1]
    settings.DATABASES["default"]["NAME"] = name
    connections.settings["default"]["NAME"] = name
    call_command("worker")


if __name__ == "__main__":
    main()
