"""Files people open in a spreadsheet: the import's --errors file defuses formula cells
(`=cmd|...`, `@SUM`, `+A1`, `-2+cmd`), and the lead export leaves phones such as
+14155550100 alone (an apostrophe would corrupt them for whoever imports the file)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from leadrefinery.common.spreadsheet import cell

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
        ("+A1", "'+A1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("\t=1", "'\t=1"),
        ("+14155550100", "+14155550100"),
        ("+1 (415) 555-0100", "+1 (415) 555-0100"),
        ("-35.0", "-35.0"),
        ("Grace", "Grace"),
        (42, 42),
    ],
)
def test_only_real_formulas_are_defused(value, written):
    assert cell(value) == written


def test_the_errors_file_defuses_formula_cells(tmp_path):
    source = tmp_path / "list.csv"
    source.write_text(
        "Email,Company,Reference\n=cmd|' /C calc'!A0,\"@SUM(1)\",+14155550100\n"
        "ok@example.com,Fine,+14155550101\n",
        encoding="utf-8",
    )
    errors = tmp_path / "errors.csv"
    call_command(
        "import_leads",
        str(source),
        "--source",
        "Expo",
        "--errors",
        str(errors),
        "--no-progress",
        stdout=io.StringIO(),
    )
    rows = list(csv.DictReader(io.StringIO(errors.read_text(encoding="utf-8"))))
    assert len(rows) == 1
    assert rows[0]["Email"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["Company"] == "'@SUM(1)"
    assert rows[0]["Reference"] == "+14155550100"
    assert "not a valid email address" in rows[0]["error"]


def test_the_export_keeps_e164_phones_as_they_are(make_lead, users, tmp_path):
    make_lead(email="grace@example.com", phone="+1 415 555 0100", company="=HYPERLINK(1)")
    out = tmp_path / "leads.csv"
    call_command("export_leads", "--user", users.admin.username, "--output", str(out))
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["phone"] == "+14155550100"
    assert row["company"] == "'=HYPERLINK(1)"
