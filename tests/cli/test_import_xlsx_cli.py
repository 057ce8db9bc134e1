"""`refinery import` as a real process on an installation of its own: an Excel workbook and a
CSV with a stray quote import their good rows and write their rejected ones to the error file;
an old .xls is refused with a message, exit status 1 and no traceback."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from openpyxl import Workbook

from tests.cli.test_import_kill_resume import _query
from tests.cli.test_serve_worker import site  # noqa: F401  (the installation fixture)

HEADER = ["Email", "First Name", "Last Name", "Company", "Phone"]


def _refinery(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "leadrefinery", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_workbook_and_a_broken_csv_through_the_command(site, tmp_path):  # noqa: F811
    env = site
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["anna@example.de", "Anna", "Müller", "Bäckerei Müller", 4155550100.0])
    sheet.append(["not-an-email", "Ben", "Ito", "Globex", None])
    sheet.append(["joao@example.com.br", "João", "Conceição", "Açaí Ltda", None])
    xlsx = tmp_path / "messe.xlsx"
    book.save(xlsx)
    errors = tmp_path / "fix-me.csv"
    run = _refinery(
        env, "import", str(xlsx), "--source", "Expo", "--errors", str(errors), "--no-progress"
    )
    assert run.returncode == 0, run.stderr
    assert "Imported 2 of 3 rows: 2 new leads, 0 added to open leads, 1 rejected." in run.stdout
    assert "row 3, Email: 'not-an-email' is not a valid email address" in run.stdout
    with errors.open(newline="", encoding="utf-8") as fh:
        [row] = list(csv.reader(fh))[1:]
    assert row[:2] == ["3", "Email"] and row[2].startswith("'not-an-email' is not a valid")
    assert row[3:] == ["not-an-email", "Ben", "Ito", "Globex", ""]
    assert _query(env, "SELECT last_name, phone FROM leads_person ORDER BY email") == [
        ("Müller", "+14155550100"),
        ("Conceição", ""),
    ]

    broken = tmp_path / "broken.csv"
    broken.write_bytes(
        (
            "Email;First Name;Last Name;Company;Phone\r\n"
            'carla@example.it;Carla;Costa;"Initech;\r\n'
            "dora@example.fr;Françoise;Dörr;Umbrella;\r\n"
        ).encode("cp1252")
    )
    run = _refinery(env, "import", str(broken), "--source", "Expo", "--no-progress")
    assert run.returncode == 0, run.stderr
    assert "Imported 1 of 2 rows" in run.stdout
    assert "row 2, Company: an opening quote is never closed" in run.stdout
    assert _query(env, "SELECT first_name, last_name FROM leads_person WHERE email LIKE 'd%'") == [
        ("Françoise", "Dörr")
    ]
    assert _query(env, "SELECT COUNT(*) FROM leads_lead") == [(3,)]


def test_an_old_xls_is_refused_without_a_traceback(site, tmp_path):  # noqa: F811
    old = tmp_path / "leads.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000))
    run = _refinery(site, "import", str(old), "--source", "Expo")
    assert run.returncode == 1
    assert "old Excel workbook (.xls)" in run.stderr and "save it as .xlsx" in run.stderr
    assert "Traceback" not in run.stderr
    assert _query(site, "SELECT COUNT(*) FROM leads_importbatch") == [(0,)]
    assert Path(old).exists()
