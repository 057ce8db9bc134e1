"""A bad row rejects that row only, and an import never mixes encodings: a cell the csv
module cannot read, a row in another encoding than the file's (a Latin-1 row in a UTF-8
file, or the reverse) is rejected by row number and into the error file while every other
row imports with its letters intact; the encoding chosen is reported; cells beyond the
header's columns are reported per row. The dry run says the same as the import."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from leadrefinery.intake.importing import import_csv, write_error_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import ImportBatch, IntakeRecord, Person

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("import")


def _import_both(path):
    dry = import_csv(path, source_name="Expo", actor=SYSTEM, dry_run=True)
    report = import_csv(path, source_name="Expo", actor=SYSTEM)
    assert (dry.imported, dry.rejected, dry.errors) == (
        report.imported,
        report.rejected,
        report.errors,
    )
    assert dry.warnings == report.warnings
    return report


def _names() -> dict[str, str]:
    return dict(Person.objects.values_list("email", "last_name"))


def test_a_cell_too_large_to_read_rejects_its_row_only(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(
        b"Email,Last Name,Message\n"
        b"a@example.org,Alder,hi\n"
        b"b@example.org,Birch," + b"x" * 200_000 + b"\n"
        b"c@example.org,Cedar,ok\n"
    )
    report = _import_both(path)
    assert (report.total_rows, report.imported, report.rejected) == (3, 2, 1)
    assert [(e.row, e.message[:33]) for e in report.errors] == [
        (3, "this row could not be read as CSV")
    ]
    assert set(_names()) == {"a@example.org", "c@example.org"}
    assert ImportBatch.objects.get().rejected_rows == 1


def test_one_latin1_row_in_a_utf8_file_is_rejected_and_the_others_keep_their_letters(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "Email,Last Name\na@example.org,Jos\u00e9\nb@example.org,Zo\u00eb\n".encode()
        + "c@example.org,M\u00fcller\n".encode("latin-1")
        + "d@example.org,\u00c5ngstr\u00f6m\n".encode()
    )
    report = _import_both(path)

    assert (report.imported, report.rejected) == (3, 1)
    assert _names() == {
        "a@example.org": "Jos\u00e9",
        "b@example.org": "Zo\u00eb",
        "d@example.org": "\u00c5ngstr\u00f6m",
    }
    [error] = report.errors
    assert error.row == 4 and "not UTF-8 like the rest of the file" in error.message
    assert any("the file is UTF-8, but 1 line(s) are not" in note for note in report.notes)
    # The error file holds the row to fix (its unreadable letter shown as U+FFFD).
    out = io.StringIO()
    assert write_error_csv(report, out) == 1
    assert "c@example.org,M\ufffdller" in out.getvalue()
    assert not IntakeRecord.objects.filter(payload__email="c@example.org").exists()


def test_a_windows_1252_file_is_reported_and_its_one_utf8_row_rejected(tmp_path):
    path = tmp_path / "win.csv"
    path.write_bytes(
        "Email,Last Name\na@example.org,Jos\u00e9\nb@example.org,Fran\u00e7ois\n".encode("cp1252")
        + "c@example.org,Zo\u00eb\n".encode()
        + "d@example.org,D\u00fcrer\n".encode("cp1252")
    )
    report = _import_both(path)
    assert (report.imported, report.rejected) == (3, 1)
    assert _names()["b@example.org"] == "Fran\u00e7ois"
    assert (
        report.errors[0].row == 4
        and "UTF-8 while the file is Windows-1252" in report.errors[0].message
    )
    assert "read as Windows-1252" in " ".join(report.notes)


def test_the_command_says_when_the_file_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "win.csv"
    path.write_bytes("Email,Last Name\na@example.org,Jos\u00e9\n".encode("cp1252"))
    call_command("import_leads", str(path), "--source", "Expo", "--dry-run", "--no-progress")
    assert "Note: the file is not UTF-8; it was read as Windows-1252" in capsys.readouterr().out


def test_cells_beyond_the_header_are_reported_per_row(tmp_path, capsys):
    path = tmp_path / "wide.csv"
    path.write_text(
        "Email,Last Name\n"
        "a@example.org,Alder,stray,more\n"
        "b@example.org,Birch,,\n"  # empty trailing cells are nothing to report
        "c@example.org,Cedar\n"
    )
    report = _import_both(path)
    assert report.imported == 3 and report.rejected == 0
    [warning] = report.warnings
    assert warning.row == 2
    assert warning.message.startswith(
        "2 cell(s) beyond the 2 columns of the header ('stray', 'more')"
    )
    stored = IntakeRecord.objects.get(payload__email="a@example.org")
    assert stored.payload["extra"] == {"(column 3)": "stray", "(column 4)": "more"}
    call_command("import_leads", str(path), "--source", "Expo", "--dry-run", "--no-progress")
    assert "row 2: 2 cell(s) beyond the 2 columns" in capsys.readouterr().out


def test_a_header_in_another_encoding_is_kept_readable(tmp_path):
    path = tmp_path / "header.csv"
    path.write_bytes(
        "Email,Last Name,Stra\u00dfe\n".encode("latin-1")
        + "a@example.org,Jos\u00e9,Hauptstra\u00dfe 1\n".encode()
        + "b@example.org,Zo\u00eb,Ring 2\n".encode()
    )
    report = _import_both(path)
    assert (report.imported, report.rejected) == (2, 0)
    assert report.header[2] == "Stra\ufffde"
    assert ImportBatch.objects.get().mapping["unmapped"] == ["Stra\ufffde"]
