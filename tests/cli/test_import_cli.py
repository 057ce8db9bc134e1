"""`refinery import` and `refinery import-undo` as a user runs them: output, error file, exit codes."""

import csv
import io
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from leadrefinery.leads.models import ImportBatch, IntakeRecord, Lead, Person, Source

ROWS = (
    "Email,First Name,Phone,Company\n"
    "anna@example.org,Anna,,Acme\n"
    "not-an-email,Ben,,Globex\n"
    ",Carla,12345,Initech\n"
    ",Dan,,Hooli\n"
    "eve@example.org,Eve,+1 212 555 0123,Wonka\n"
)


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _refinery(*args, home) -> subprocess.CompletedProcess:
    env = {**os.environ, "REFINERY_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "leadrefinery", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def rows_file(tmp_path):
    path = tmp_path / "expo.csv"
    path.write_text(ROWS, encoding="utf-8")
    return path


@pytest.mark.django_db
def test_dry_run_reports_and_writes_nothing(rows_file, tmp_path):
    errors = tmp_path / "errors.csv"
    out = _run(
        "import_leads", str(rows_file), "--source", "Expo", "--dry-run", "--errors", str(errors)
    )
    assert "Email -> email" in out and "First Name -> first_name" in out
    assert (
        "Dry run, nothing was written. Of 5 rows, 2 would import (2 new leads, 0 added to open leads) and 3 would be rejected."
        in out
    )
    assert "row 3, Email: 'not-an-email' is not a valid email address" in out
    assert "row 4, Phone: '12345' is not" in out
    assert "row 5, Email: an email address or a phone number is required" in out
    assert "Batch id" not in out
    assert (
        Source.objects.filter(name="Expo").exists(),
        ImportBatch.objects.count(),
        IntakeRecord.objects.count(),
    ) == (False, 0, 0)
    assert errors.exists(), "the error file is written in a dry run too"


@pytest.mark.django_db
def test_import_writes_the_error_file_and_the_fixed_rows_import_again(rows_file, tmp_path):
    errors = tmp_path / "errors.csv"
    out = _run("import_leads", str(rows_file), "--source", "Expo", "--errors", str(errors))
    assert "Imported 2 of 5 rows: 2 new leads, 0 added to open leads, 3 rejected." in out
    batch = ImportBatch.objects.get()
    assert f"Batch id: {batch.pk}" in out and f"refinery import-undo {batch.pk}" in out
    assert f"Rejected rows written to {errors} (3 rows)." in out

    with errors.open(newline="", encoding="utf-8") as fh:
        written = list(csv.DictReader(fh))
    assert [(r["row"], r["column"]) for r in written] == [
        ("3", "Email"),
        ("4", "Phone"),
        ("5", "Email"),
    ]
    assert written[0]["First Name"] == "Ben" and written[1]["Company"] == "Initech"
    assert "not a valid email address" in written[0]["error"]

    # The user fixes the rows in the error file and imports it as it is.
    written[0]["Email"] = "ben@example.org"
    written[1]["Phone"] = "+1 212 555 0199"
    written[2]["Email"] = "dan@example.org"
    with errors.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(written[0]))
        writer.writeheader()
        writer.writerows(written)
    out = _run("import_leads", str(errors), "--source", "Expo")
    assert "Imported 3 of 3 rows: 3 new leads" in out
    assert "Not mapped (kept with each raw row): row, column, error" in out
    assert Lead.objects.count() == 5


@pytest.mark.django_db
def test_import_as_a_user_and_undo_from_the_command_line(rows_file, users):
    _run("import_leads", str(rows_file), "--source", "Expo", "--user", "mark", "--no-progress")
    batch = ImportBatch.objects.get()
    assert batch.created_by == users.marketer
    assert batch.pk in _run("import_undo", "--list")
    out = _run("import_undo", batch.pk, "--user", "maria")
    assert (
        f"Undid import batch {batch.pk}: closed 2 leads it created, voided 0 rows it added to existing leads."
        in out
    )
    assert set(Lead.objects.values_list("stage", flat=True)) == {"disqualified"}
    with pytest.raises(CommandError, match="already undone"):
        _run("import_undo", batch.pk)
    with pytest.raises(CommandError, match="no import batch 'b_missing'"):
        _run("import_undo", "b_missing")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}", "--source", "Expo"], "file not found"),
        (["{headless}", "--source", "Expo"], "no email or phone column found"),
        (["{rows}", "--source", "Expo", "--user", "nobody"], "no user named 'nobody'"),
        (
            ["{rows}", "--source", "Expo", "--errors", "/nonexistent-dir/e.csv"],
            "cannot write the error file",
        ),
    ],
)
def test_refused_imports_fail_with_a_message_and_write_nothing(tmp_path, rows_file, args, message):
    headless = tmp_path / "headless.csv"
    headless.write_text("Name,Company\nAnna,Acme\n")
    paths = {"missing": tmp_path / "missing.csv", "headless": headless, "rows": rows_file}
    with pytest.raises(CommandError, match=message):
        _run("import_leads", *[a.format(**paths) for a in args])
    assert (ImportBatch.objects.count(), Person.objects.count()) == (0, 0)


def test_help_and_exit_status_of_the_refinery_command(tmp_path):
    help_text = _refinery("import", "--help", home=tmp_path).stdout
    assert "usage: refinery import " in help_text
    for words in (
        "--source NAME",
        "--dry-run",
        "--errors OUT.csv",
        "Salesforce, HubSpot and Mautic",
        "refinery import-undo BATCH",
        "an Excel workbook (.xlsx)",
        "the CSV or .xlsx file (told apart by its content)",
    ):
        assert words in " ".join(help_text.split()), words
    undo_help = _refinery("import-undo", "--help", home=tmp_path).stdout
    assert "usage: refinery import-undo" in undo_help and "disqualified" in undo_help

    missing = _refinery("import", str(tmp_path / "nope.csv"), "--source", "Expo", home=tmp_path)
    assert missing.returncode == 1
    assert "file not found" in missing.stderr
    no_source = _refinery("import", str(tmp_path / "nope.csv"), home=tmp_path)
    assert no_source.returncode == 2 and "--source" in no_source.stderr
