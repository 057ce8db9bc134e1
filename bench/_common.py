"""What every benchmark needs: a throwaway installation, percentiles, a results table.

A benchmark never touches your data: it runs in a temporary REFINERY_HOME and, when
DATABASE_URL points at PostgreSQL, in a new database on that server that is dropped at the
end.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent


@dataclass
class Installation:
    home: Path
    database_url: str | None  # None: SQLite in home
    _admin_url: str | None = None
    _database: str | None = None

    @property
    def vendor(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    @property
    def env(self) -> dict[str, str]:
        """Environment for child processes (gunicorn) that must use this installation."""
        env = dict(os.environ)
        env["REFINERY_HOME"] = str(self.home)
        env["DJANGO_SETTINGS_MODULE"] = "benchsite"
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(BENCH_DIR), env.get("PYTHONPATH", "")])
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env

    def cleanup(self) -> None:
        from django.db import connections

        connections.close_all()
        if self._database and self._admin_url:
            import psycopg

            with psycopg.connect(self._admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._database}" WITH (FORCE)')
        shutil.rmtree(self.home, ignore_errors=True)


def install(name: str) -> Installation:
    """Point this process at a fresh installation; call before django.setup()."""
    home = Path(tempfile.mkdtemp(prefix=f"refinery-bench-{name}-"))
    base_url = os.environ.get("DATABASE_URL")
    installation = Installation(home=home, database_url=None)
    if base_url:
        import psycopg

        parts = urlsplit(base_url)
        database = f"refinery_bench_{name}_{uuid.uuid4().hex[:8]}"
        installation._admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(installation._admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        installation._database = database
        installation.database_url = urlunsplit(parts._replace(path="/" + database))
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    os.environ.update(
        {k: v for k, v in installation.env.items() if k != "PYTHONPATH"},
    )
    return installation


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0..100), nearest-rank: p99 of 2000 samples is the 1980th."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil without floats
    return ordered[int(rank) - 1]


def table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned first column, right-aligned numbers, a rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        cells = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPU(s), {cpu}; Python {platform.python_version()}"


def database_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("select sqlite_version()")
            return f"SQLite {cur.fetchone()[0]} (WAL, synchronous=NORMAL)"
        cur.execute("show server_version")
        return f"PostgreSQL {cur.fetchone()[0]}"
