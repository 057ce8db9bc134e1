"""Excel workbooks import like CSV files: told apart by their content (a path or an upload,
whatever the name), cells read as Excel shows them (a phone typed as a number, dates,
formulas), Excel's row numbers, the first worksheet with data, a second import of the same
file noticed and a stopped one resumed; an old .xls or a damaged workbook is refused with
what to do, before anything is written."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from leadrefinery.intake.importing import ImportFailed, import_csv, import_resume, inspect_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import ImportBatch, IntakeRecord, Lead, Person

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("import")


def _book(sheets: dict[str, list[list]]) -> Workbook:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    return book


def _save(tmp_path, sheets, name="leads.xlsx"):
    path = tmp_path / name
    _book(sheets).save(path)
    return path


def _patch(path, replace: dict[str, str], member="xl/worksheets/sheet1.xml") -> None:
    """Rewrite a part of the workbook as Excel would have written it."""
    with zipfile.ZipFile(path) as old:
        parts = {info.filename: old.read(info) for info in old.infolist()}
    text = parts[member].decode()
    for before, after in replace.items():
        assert before in text
        text = text.replace(before, after)
    parts[member] = text.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in parts.items():
            new.writestr(name, data)


def test_cells_are_read_as_excel_shows_them(tmp_path):
    path = _save(
        tmp_path,
        {
            "Leads": [
                ["Email", "Phone", "First Name", "Created Date", "Amount", "Consent", "Score"],
                [
                    "anna@example.com",
                    4155550100.0,  # a phone typed as a number
                    "Anna",
                    datetime(2026, 1, 15, 10, 22),
                    12500.5,
                    True,
                    0.1 + 0.2,
                ],
                ["ben@example.com", 14155550101, "Ben", date(2026, 2, 1), 99, False, 1e-7],
                ["carla@example.com", None, "Carla", None, None, None, "=1+1"],
            ]
        },
    )
    # The formula's value as Excel last calculated it (openpyxl writes none of its own).
    _patch(path, {"<f>1+1</f><v />": "<f>1+1</f><v>2</v>"})
    report = import_csv(path, source_name="Expo", actor=SYSTEM)
    assert (report.total_rows, report.imported, report.rejected) == (3, 3, 0)
    payloads = {
        r.row_number: r.payload
        for r in IntakeRecord.objects.filter(import_batch_id=report.batch_id)
    }
    assert payloads[2]["phone"] == "4155550100"
    assert payloads[2]["received_at"] == "2026-01-15 10:22:00"
    assert payloads[2]["opportunity_amount"] == "12500.5"
    assert payloads[2]["consent"] == "TRUE"
    assert payloads[2]["extra"] == {"Score": "0.3"}
    assert payloads[3]["received_at"] == "2026-02-01"
    assert (payloads[3]["consent"], payloads[3]["extra"]) == ("FALSE", {"Score": "0.0000001"})
    assert payloads[4]["extra"] == {"Score": "2"}
    anna = Person.objects.get(email="anna@example.com")
    assert anna.phone == "+14155550100"
    assert Lead.objects.get(person=anna).received_at.isoformat() == "2026-01-15T10:22:00+00:00"


def test_rows_keep_excels_numbers_and_the_first_sheet_with_data_is_read(tmp_path):
    path = _save(
        tmp_path,
        {
            "Cover": [],
            "Leads": [
                ["Email", "First Name"],
                ["anna@example.com", "Anna"],
                [],
                [None, None],
                ["not-an-email", "Ben"],  # Excel row 5
                ["carla@example.com", "Carla"],
            ],
            "Summary": [["Total", 3]],
        },
    )
    preview = inspect_csv(path)
    assert (preview.encoding, preview.delimiter, preview.total_rows) == ("xlsx", "", 3)
    [note] = [n for n in preview.notes if "worksheets" in n]
    assert "'Leads', the first with data" in note and "Not imported: 'Summary'" in note
    report = import_csv(path, source_name="Expo", actor=SYSTEM)
    assert [(e.row, e.column) for e in report.errors] == [(5, "Email")]
    assert report.imported == 2


def test_a_wrong_dimension_in_the_file_does_not_cut_rows_or_columns(tmp_path):
    path = _save(
        tmp_path,
        {"Leads": [["Email", "First Name"], ["anna@example.com", "Anna"], ["b@example.com", "B"]]},
    )
    _patch(path, {'<dimension ref="A1:B3" />': '<dimension ref="A1" />'})
    report = import_csv(path, source_name="Expo", actor=SYSTEM)
    assert report.imported == 2
    assert Person.objects.get(email="anna@example.com").first_name == "Anna"


def test_an_upload_is_told_apart_by_its_content_not_its_name(tmp_path):
    buffer = io.BytesIO()
    _book({"Sheet1": [["Email", "First Name"], ["anna@example.com", "Anna"]]}).save(buffer)
    upload = io.BytesIO(buffer.getvalue())
    upload.name = "leads.csv"  # a workbook with the wrong name
    report = import_csv(upload, source_name="Expo", actor=SYSTEM)
    assert report.imported == 1
    assert Person.objects.get(email="anna@example.com").first_name == "Anna"
    # The same bytes from a path: the same file, noticed by its checksum.
    path = tmp_path / "again.bin"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ImportFailed, match="was already imported as batch"):
        import_csv(path, source_name="Expo", actor=SYSTEM)


def test_a_stopped_workbook_import_resumes(tmp_path):
    rows = [["Email", "First Name"]] + [[f"p{i}@example.org", f"P{i}"] for i in range(1, 8)]
    path = _save(tmp_path, {"Leads": rows})
    written: list[int] = []
    phase: list[str] = []

    def progress(n: int) -> None:
        if phase[-1] == "importing":
            written.append(n)
            if len(written) == 2:
                raise KeyboardInterrupt

    with pytest.raises(ImportFailed, match="--resume") as stopped:
        import_csv(
            path,
            source_name="Expo",
            actor=SYSTEM,
            chunk_size=2,
            progress=progress,
            phase=phase.append,
        )
    batch_id = stopped.value.batch_id
    report = import_resume(batch_id=batch_id, actor=SYSTEM)
    assert (report.skipped, report.imported) == (4, 3)
    assert sorted(
        IntakeRecord.objects.filter(import_batch_id=batch_id).values_list("row_number", flat=True)
    ) == list(range(2, 9))
    assert Person.objects.count() == 7
    assert ImportBatch.objects.get(pk=batch_id).finished_at is not None


def _nothing_written():
    return ImportBatch.objects.count(), IntakeRecord.objects.count(), Person.objects.count()


def _not_a_workbook(path) -> None:
    zipfile.ZipFile(path, "w").writestr("content.xml", "<office:document/>")


def _truncated(path) -> None:
    buffer = io.BytesIO()
    _book({"Leads": [["Email"], ["anna@example.com"]]}).save(buffer)
    path.write_bytes(buffer.getvalue()[:300])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000)),
            r"old Excel workbook \(.xls\) or a password-protected one",
        ),
        (_truncated, "damaged or incomplete"),
        (_not_a_workbook, "not an Excel workbook"),
    ],
)
def test_a_workbook_that_cannot_be_read_is_refused_clearly(tmp_path, make, message):
    path = tmp_path / "leads.xlsx"
    make(path)
    before = _nothing_written()
    with pytest.raises(ImportFailed, match=message) as refused:
        import_csv(path, source_name="Expo", actor=SYSTEM)
    assert "save it as .xlsx (Excel Workbook) or CSV" in refused.value.message
    assert _nothing_written() == before
    with pytest.raises(CommandError, match=message):
        call_command("import_leads", str(path), "--source", "Expo", "--no-progress")
