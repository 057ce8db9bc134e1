"""`refinery import` killed with SIGKILL halfway through a large file, then `--resume`: every
row of the file is stored and processed exactly once, and `refinery check` passes.

The import runs as a real process on a freshly migrated installation of its own (SQLite, or
a new PostgreSQL database under DATABASE_URL); the test watches the database and kills the
process once part of the file is stored.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.test_serve_worker import site  # noqa: F401  (the installation fixture)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc"),
]
ROWS = 6000


def _refinery(env, *args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "leadrefinery", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _query(env, sql: str) -> list[tuple]:
    if env.get("DATABASE_URL"):
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as conn:
            return conn.execute(sql.replace("?", "%s")).fetchall()
    db = Path(env["REFINERY_HOME"]) / "refinery.sqlite3"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute(sql).fetchall()


def _big_file(path: Path) -> None:
    lines = ["Email,First Name,Last Name,Company,Phone"]
    for i in range(ROWS):
        email = f"buyer{i}@firm{i % 997}.example.com" if i % 50 else "no email here"
        lines.append(f"{email},Pat{i},Lee{i},Firm {i % 997},")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_an_import_killed_midway_resumes_with_every_row_once(site, tmp_path):  # noqa: F811
    env = site
    csv_path = tmp_path / "big.csv"
    _big_file(csv_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leadrefinery",
            "import",
            str(csv_path),
            "--source",
            "Expo",
            "--chunk-size",
            "200",
            "--no-progress",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    batch_id = None
    assert proc.stdout is not None
    for line in proc.stdout:  # the batch id comes before the first row is stored
        if line.startswith("Batch id: "):
            batch_id = line.split()[2]
            break
    assert batch_id, "no batch id printed"
    deadline = time.monotonic() + 300
    stored = 0
    while time.monotonic() < deadline:
        stored = _query(
            env,
            f"SELECT COUNT(*) FROM leads_intakerecord WHERE import_batch_id = '{batch_id}'",
        )[0][0]
        if stored >= ROWS // 3:
            break
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    if proc.stderr is not None:
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert ROWS // 3 <= stored < ROWS, "killed midway"
    assert _query(env, f"SELECT finished_at FROM leads_importbatch WHERE id = '{batch_id}'") == [
        (None,)
    ]

    again = _refinery(env, "import", str(csv_path), "--source", "Expo", "--no-progress")
    assert again.returncode == 1
    assert f"refinery import --resume {batch_id}" in again.stderr

    resumed = _refinery(env, "import", "--resume", batch_id, "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resumed batch {batch_id}" in resumed.stdout

    rows = _query(
        env,
        "SELECT row_number, COUNT(*), MIN(status) FROM leads_intakerecord "
        f"WHERE import_batch_id = '{batch_id}' GROUP BY row_number ORDER BY row_number",
    )
    assert [r[0] for r in rows] == list(range(2, ROWS + 2)), "every row of the file is stored"
    assert all(count == 1 for _, count, _ in rows), "and none twice"
    statuses = {status for _, _, status in rows}
    assert statuses <= {"processed", "rejected"}, statuses
    rejected = ROWS // 50
    leads = _query(env, f"SELECT COUNT(*) FROM leads_lead WHERE import_batch_id = '{batch_id}'")
    touches = _query(env, f"SELECT COUNT(*) FROM leads_touch WHERE import_batch_id = '{batch_id}'")
    assert leads == [(ROWS - rejected,)] and touches == [(ROWS - rejected,)]
    people = _query(env, "SELECT COUNT(*), COUNT(DISTINCT email) FROM leads_person")
    assert people == [(ROWS - rejected, ROWS - rejected)], "nobody made twice"
    counts = _query(
        env,
        f"SELECT imported_rows, rejected_rows FROM leads_importbatch WHERE id = '{batch_id}'",
    )
    assert counts == [(ROWS - rejected, rejected)]

    check = _refinery(env, "check")
    assert check.returncode == 0, check.stdout + check.stderr
