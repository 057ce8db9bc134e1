"""No lead is lost to a phone number that does not parse: a list where 30% of the phones are
not valid numbers but every email is valid imports every row as a lead, keeps each bad number
as given with a note on the row, and the dry run says the same."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from leadrefinery.intake.importing import import_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, Person

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("import")
BAD = ["(212) 000-1234", "+1 555 0100", "call after 3pm", "0049 30 12", "n/a please email"]


def _list(tmp_path, rows: int = 60):
    path = tmp_path / "b2b.csv"
    bad_rows = set()
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["First Name", "Last Name", "Email", "Phone", "Company", "Country"])
        for i in range(rows):
            if i % 10 < 3:  # 30%
                phone = BAD[len(bad_rows) % len(BAD)]
                bad_rows.add(i + 2)
            else:
                phone = f"+1 415 555 {1000 + i:04d}"
            w.writerow(
                [f"Given{i}", f"Family{i}", f"p{i}@firm{i}.example", phone, f"Firm {i}", "US"]
            )
    return path, bad_rows


def test_every_row_with_a_valid_email_becomes_a_lead(tmp_path):
    path, bad_rows = _list(tmp_path)
    dry = import_csv(path, source_name="Expo", actor=SYSTEM, dry_run=True)
    report = import_csv(path, source_name="Expo", actor=SYSTEM)
    assert (dry.imported, dry.rejected) == (60, 0)
    assert (report.imported, report.rejected, report.new_leads) == (60, 0, 60)
    assert Lead.objects.count() == 60
    for r in (dry, report):
        assert {w.row for w in r.warnings} == bad_rows
        assert {w.column for w in r.warnings} == {"Phone"}
    kept = Person.objects.exclude(phone_unparsed="")
    assert kept.count() == 18 and not kept.exclude(phone="").exists()
    assert set(kept.values_list("phone_unparsed", flat=True)) == set(BAD)
    note = next(w for w in report.warnings if "(212) 000-1234" in w.message)
    assert "not a valid phone number for US" in note.message


def test_the_import_command_prints_the_notes_and_the_lead_page_shows_the_number(
    tmp_path, client, users
):
    path, _ = _list(tmp_path, rows=10)
    out = io.StringIO()
    call_command("import_leads", str(path), "--source", "Expo", stdout=out)
    text = out.getvalue()
    assert "Imported 10 of 10 rows" in text
    assert "Imported with a note" in text and "row 2, Phone:" in text
    lead = Lead.objects.get(person__phone_unparsed="(212) 000-1234")
    client.force_login(users.admin)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "(212) 000-1234" in page and "not a valid number" in page


def test_a_bad_email_next_to_a_valid_phone_imports_with_a_note(tmp_path, client, users):
    path = tmp_path / "emails.csv"
    path.write_text(
        "First Name,Email,Phone,Country\nAna,ana.at.firm.example,+1 415 555 0142,US\nBen,ben@,,US\n"
    )
    report = import_csv(path, source_name="Expo", actor=SYSTEM)
    assert (report.imported, report.rejected) == (1, 1)
    assert [(w.row, w.column) for w in report.warnings] == [(2, "Email")]
    assert [(e.row, e.column) for e in report.errors] == [(3, "Email")]
    ana = Person.objects.get(first_name="Ana")
    assert (ana.email, ana.email_unparsed, ana.phone) == ("", "ana.at.firm.example", "+14155550142")
    client.force_login(users.admin)
    page = client.get(f"/leads/{Lead.objects.get(person=ana).pk}/").content.decode()
    assert "ana.at.firm.example" in page and "not a valid address" in page
