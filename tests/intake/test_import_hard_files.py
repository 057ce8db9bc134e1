"""Files as marketers really get them: a Windows-1252 file with semicolons and accents, a UTF-8
file with Excel's BOM, a CSV with a stray quote, a short row and a bad email in the middle,
and the same rows saved from Excel as .xlsx. Each imports its good rows with their names
intact, rejects the others by row number, column and reason, and writes nothing for a
rejected row: the people and leads added are exactly the good rows, through `import_csv` and
through `refinery import`."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from leadrefinery.intake.importing import import_csv, inspect_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import ImportBatch, IntakeRecord, Lead, Person, Touch

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("import")

HEADER = ["Email", "First Name", "Last Name", "Company", "City"]
GOOD = [
    ["anna.mueller@example.de", "Anna", "Müller", "Bäckerei Müller GmbH", "München"],
    ["francoise@example.fr", "Françoise", "Lefèvre", "Société Générale", "Paris"],
    ["joao@example.com.br", "João", "Conceição", "Açaí Ltda", "São Paulo"],
]
NAMES = {row[0]: (row[1], row[2], row[4]) for row in GOOD}


def _counts() -> tuple[int, int, int]:
    return Person.objects.count(), Lead.objects.count(), Touch.objects.count()


def _stored_names() -> dict[str, tuple[str, str, str]]:
    return {
        p.email: (p.first_name, p.last_name, p.city)
        for p in Person.objects.exclude(email__isnull=True).exclude(email="")
    }


def _command(path, *args) -> str:
    out = io.StringIO()
    call_command("import_leads", str(path), "--source", "Expo", "--no-progress", *args, stdout=out)
    return out.getvalue()


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _batch_adds_up(report) -> None:
    batch = ImportBatch.objects.get(pk=report.batch_id)
    assert (batch.total_rows, batch.imported_rows, batch.rejected_rows) == (
        report.total_rows,
        report.imported,
        report.rejected,
    )
    assert report.imported + report.rejected == report.total_rows
    # A rejected row made nothing: every processed record has its person, no rejected one does.
    records = IntakeRecord.objects.filter(import_batch_id=report.batch_id)
    assert not records.filter(status="rejected", person__isnull=False).exists()
    assert records.filter(status="processed").count() == report.imported


@pytest.mark.parametrize("via", ["service", "command"])
def test_a_windows_1252_file_with_semicolons_keeps_its_accents(tmp_path, via):
    rows = [HEADER, GOOD[0], ["not-an-email", "Zoë", "Dürer", "X", "Köln"], GOOD[1], GOOD[2]]
    path = tmp_path / "messe.csv"
    path.write_bytes(_csv(rows, ";").encode("cp1252"))
    before = _counts()
    if via == "service":
        report = import_csv(path, source_name="Expo", actor=SYSTEM)
        assert (report.total_rows, report.imported, report.rejected) == (4, 3, 1)
        assert [(e.row, e.column) for e in report.errors] == [(3, "Email")]
        assert "not a valid email" in report.errors[0].message
        assert "read as Windows-1252" in " ".join(report.notes)
        _batch_adds_up(report)
    else:
        out = _command(path)
        assert "Note: the file is not UTF-8; it was read as Windows-1252" in out
        assert "Imported 3 of 4 rows: 3 new leads, 0 added to open leads, 1 rejected." in out
        assert "row 3, Email: 'not-an-email' is not a valid email address" in out
    assert _stored_names() == NAMES
    after = _counts()
    assert (after[0] - before[0], after[1] - before[1]) == (3, 3)


def test_excels_csv_utf8_with_its_bom(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(_csv([HEADER, *GOOD]).encode("utf-8-sig"))
    preview = inspect_csv(path)
    assert preview.mapping.mapping["Email"] == "email"
    assert (preview.encoding, preview.delimiter, preview.total_rows) == ("utf-8-sig", ",", 3)
    out = _command(path)
    assert "  Email -> email" in out and "\ufeff" not in out
    assert "Imported 3 of 3 rows" in out
    assert _stored_names() == NAMES


BROKEN = (
    "Email,First Name,Last Name,Company,City\r\n"
    "anna.mueller@example.de,Anna,Müller,Bäckerei Müller GmbH,München\r\n"
    'ben@example.org,Ben,Ito,"Acme Inc,Berlin\r\n'  # row 3: the quote is never closed
    "francoise@example.fr,Françoise,Lefèvre,Société Générale,Paris\r\n"
    "not-an-email,Dan,Diaz,Hooli,Oslo\r\n"  # row 5: a bad email
    "eve@example.org,Eve\r\n"  # row 6: too few cells, the email is there
    "Greta Lund\r\n"  # row 7: too few cells, no email
    'joao@example.com.br,João,Conceição,"Açaí Ltda",São Paulo\r\n'
    "carla@example.it,Carla,Costa,Initech,Roma\r\n"
)


def test_a_stray_quote_rejects_its_row_only_and_the_rows_after_it_import(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text(BROKEN, encoding="utf-8")
    before = _counts()
    dry = import_csv(path, source_name="Expo", actor=SYSTEM, dry_run=True)
    report = import_csv(path, source_name="Expo", actor=SYSTEM)
    assert (dry.imported, dry.rejected, dry.errors) == (
        report.imported,
        report.rejected,
        report.errors,
    )
    assert (report.total_rows, report.imported, report.rejected) == (8, 5, 3)
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "Company"),
        (5, "Email"),
        (7, "Email"),
    ]
    assert report.errors[0].message.startswith("an opening quote is never closed")
    assert "'not-an-email' is not a valid email address" in report.errors[1].message
    assert [(w.row, w.message) for w in report.warnings] == [
        (
            6,
            "only 2 of the header's 5 cells: Last Name, Company, City read as empty (a row cut short?)",
        )
    ]
    _batch_adds_up(report)
    assert _stored_names() == {
        "anna.mueller@example.de": ("Anna", "Müller", "München"),
        "francoise@example.fr": ("Françoise", "Lefèvre", "Paris"),
        "eve@example.org": ("Eve", "", ""),
        "joao@example.com.br": ("João", "Conceição", "São Paulo"),
        "carla@example.it": ("Carla", "Costa", "Roma"),
    }
    assert not Person.objects.filter(email="ben@example.org").exists()
    assert Person.objects.get(email="joao@example.com.br").company_name == "Açaí Ltda"
    after = _counts()
    assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (5, 5, 5)


def test_the_command_reports_the_stray_quote_and_writes_it_to_the_error_file(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text(BROKEN, encoding="utf-8")
    errors = tmp_path / "fix-me.csv"
    out = _command(path, "--errors", str(errors))
    assert "Imported 5 of 8 rows: 5 new leads, 0 added to open leads, 3 rejected." in out
    assert "row 3, Company: an opening quote is never closed" in out
    assert "row 5, Email: 'not-an-email' is not a valid email address" in out
    notes = out.split("Imported with a note (row, column: note):\n")[1]
    assert notes.startswith("  row 6: only 2 of the header's 5 cells")
    assert "row 7:" not in notes, "a rejected row is not imported with a note"
    with errors.open(newline="", encoding="utf-8") as fh:
        written = list(csv.reader(fh))
    assert written[0] == ["row", "column", "error", *HEADER]
    assert [line[:2] for line in written[1:]] == [["3", "Company"], ["5", "Email"], ["7", "Email"]]
    # The row to fix, as it was written: its stray quote shows where the trouble is.
    assert written[1][3:8] == ["ben@example.org", "Ben", "Ito", '"Acme Inc', "Berlin"]


@pytest.mark.parametrize(
    ("tail", "why"),
    [
        ("", "the quote is still open at the end of the file"),
        ('dora@example.org,Dora,Dietz,"Umbrella, Inc",Lyon\r\n', "a later cell's quote"),
        ('dora@example.org,Dora,Dietz,Size 5",Lyon\r\n', "a later quote that closes a cell"),
    ],
)
def test_a_runaway_quote_is_caught_however_it_ends(tmp_path, tail, why):
    path = tmp_path / "runaway.csv"
    path.write_text(
        "Email,First Name,Last Name,Company,City\r\n"
        'ben@example.org,Ben,Ito,"Acme Inc,Berlin\r\n'
        "anna@example.de,Anna,Alt,Acme,Bonn\r\n"
        "carla@example.it,Carla,Costa,Initech,Roma\r\n" + tail,
        encoding="utf-8",
    )
    report = import_csv(path, source_name="Expo", actor=SYSTEM)
    assert [(e.row, e.column, e.message[:32]) for e in report.errors] == [
        (2, "Company", "an opening quote is never closed")
    ], why
    assert report.imported == report.total_rows - 1
    assert {"anna@example.de", "carla@example.it"} <= set(_stored_names())


def test_a_quoted_cell_over_several_lines_is_still_one_row(tmp_path):
    """Line breaks and commas in a quoted message are not a runaway."""
    path = tmp_path / "notes.csv"
    path.write_text(
        "Email,Name,Message\r\n"
        'anna@example.de,Anna,"Hello,\r\nwe want, a demo\r\nthanks"\r\n'
        'ben@example.org,"Ben ""the"" Ito","multi\r\nline"\r\n',
        encoding="utf-8",
    )
    report = import_csv(path, source_name="Expo", actor=SYSTEM)
    assert (report.total_rows, report.imported, report.rejected) == (2, 2, 0)
    lead = Lead.objects.get(person__email="anna@example.de")
    assert lead.message == "Hello,\r\nwe want, a demo\r\nthanks"
    assert Person.objects.get(email="ben@example.org").first_name == 'Ben "the"'


def _workbook(path, rows) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Leads"
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_the_same_rows_from_excel_make_the_same_people_and_leads(tmp_path):
    rows = [HEADER, GOOD[0], ["not-an-email", "Dan", "Diaz", "Hooli", "Oslo"], *GOOD[1:]]
    csv_path = tmp_path / "messe.csv"
    csv_path.write_bytes(_csv(rows, ";").encode("cp1252"))
    xlsx_path = tmp_path / "messe.xlsx"
    _workbook(xlsx_path, rows)
    before = _counts()
    from_csv = import_csv(csv_path, source_name="Expo", actor=SYSTEM)
    people = _stored_names()
    from_xlsx = import_csv(xlsx_path, source_name="Expo", actor=SYSTEM)
    for report in (from_csv, from_xlsx):
        assert (report.total_rows, report.imported, report.rejected) == (4, 3, 1)
        assert [(e.row, e.column) for e in report.errors] == [(3, "Email")]
        _batch_adds_up(report)
    assert people == NAMES
    # The workbook's rows are the CSV's rows: the same people, each added to their open lead.
    assert (from_xlsx.people_new, from_xlsx.people_attached, from_xlsx.attached) == (0, 3, 3)
    after = _counts()
    assert (after[0] - before[0], after[1] - before[1]) == (3, 3)

    def payloads(batch_id):
        return {
            r.row_number: r.payload for r in IntakeRecord.objects.filter(import_batch_id=batch_id)
        }

    assert payloads(from_csv.batch_id) == payloads(from_xlsx.batch_id)


def test_the_command_imports_a_workbook_and_writes_its_error_file(tmp_path):
    path = tmp_path / "messe.xlsx"
    _workbook(path, [HEADER, GOOD[0], ["Zoë", "Zoë", "Dürer", "X", "Köln"], *GOOD[1:]])
    errors = tmp_path / "fix-me.csv"
    out = _command(path, "--errors", str(errors))
    assert "messe.xlsx: 4 rows." in out
    assert "Imported 3 of 4 rows: 3 new leads, 0 added to open leads, 1 rejected." in out
    assert "row 3, Email: 'Zoë' is not a valid email address" in out
    with errors.open(newline="", encoding="utf-8") as fh:
        written = list(csv.reader(fh))
    assert written[0] == ["row", "column", "error", *HEADER]
    assert written[1][:2] == ["3", "Email"]
    assert written[1][3:] == ["Zoë", "Zoë", "Dürer", "X", "Köln"]
    assert _stored_names() == NAMES
