"""CSV import resolves duplicates inside the file and against the database by the same rules
as intake; the dry run says how many rows would create, attach or go to review."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from leadrefinery.dedupe.models import DuplicatePair
from leadrefinery.intake.importing import import_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Person

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("import")

ROWS = (
    "Email,Phone,First Name,Last Name,Company,Country\n"
    # 1-2: one person, in two formats (case; a US phone written two ways)
    "JOHN.Smith@Example.com,+1 (415) 555-0100,John,Smith,Example Corp,US\n"
    "john.smith@example.com,415.555.0100,John,Smith,Example Corporation,US\n"
    # 3: a known person (in the database), with a Gmail variant of her address
    "pat.lee+expo@googlemail.com,,Pat,Lee,,\n"
    # 4-5: Bob and Robert Smith at one company: the grey zone, to review
    'bob@acme.example,,Bob,Smith,"Acme, Inc.",US\n'
    "robert.smith@acme.example,,Robert,Smith,ACME Incorporated,US\n"
    # 6-7: a shared role address: two people
    "info@globex.example,,Hank,Scorpio,Globex,US\n"
    "info@globex.example,,Homer,Simpson,Globex,US\n"
    # 8: the same name as row 1 at another company: another person
    "jsmith@initech.example,,John,Smith,Initech,US\n"
)


def test_dry_run_predicts_create_attach_and_review_and_the_import_does_it(tmp_path, inquire):
    known = inquire(email="patlee@gmail.com", first_name="Pat", last_name="Lee")
    path = tmp_path / "expo.csv"
    path.write_text(ROWS, encoding="utf-8")

    dry = import_csv(path, source_name="Expo", dry_run=True, actor=SYSTEM)
    assert (dry.people_new, dry.people_attached, dry.review) == (6, 2, 1)
    assert (dry.new_leads, dry.attached) == (6, 2)
    assert Person.objects.count() == 1, "a dry run writes nothing"

    report = import_csv(path, source_name="Expo", actor=SYSTEM)
    assert (report.people_new, report.people_attached, report.review) == (6, 2, 1)
    assert (report.new_leads, report.attached, report.rejected) == (6, 2, 0)
    assert Person.objects.count() == 7
    assert Person.objects.filter(email="info@globex.example").count() == 2
    assert Person.objects.filter(first_name="John", last_name="Smith").count() == 2
    assert Person.objects.get(pk=known["person_id"]).touches.count() == 2
    pair = DuplicatePair.objects.get()
    assert (pair.person_a.first_name, pair.person_b.first_name, pair.found_by) == (
        "Bob",
        "Robert",
        "import",
    )


def test_in_file_duplicates_across_chunks_follow_the_same_rules(tmp_path):
    path = tmp_path / "chunks.csv"
    path.write_text(ROWS, encoding="utf-8")
    dry = import_csv(path, source_name="Expo", dry_run=True, actor=SYSTEM, chunk_size=2)
    report = import_csv(path, source_name="Expo", actor=SYSTEM, chunk_size=2)
    assert (dry.people_new, dry.people_attached, dry.review) == (7, 1, 1)
    assert (report.people_new, report.people_attached, report.review) == (7, 1, 1)


def test_the_command_prints_the_people_counts(tmp_path, capsys):
    path = tmp_path / "expo.csv"
    path.write_text(ROWS, encoding="utf-8")
    call_command("import_leads", str(path), "--source", "Expo", "--dry-run", "--no-progress")
    out = capsys.readouterr().out
    assert "People (would be): 7 new, 1 matched to known people, 1 of the new" in out


def test_a_typo_in_the_surname_and_the_postcode_still_finds_the_person(tmp_path):
    """Lara White of 12 Boldrewood Street wrote in again as "Lara Whitd" with a postcode one
    digit off and another email: no name, postcode or email key is shared, but the street is
    (its number and first word), so the two are compared, and wait for review as a possible
    duplicate (before, they were never compared)."""
    head = "First Name,Last Name,Street,City,Zip,Email,Country\n"
    first = tmp_path / "first.csv"
    first.write_text(head + "Lara,White,12 Boldrewood Street,Meadowvale,6056,lw@one.example,AU\n")
    again = tmp_path / "again.csv"
    again.write_text(head + "Lara,Whitd,12 Boldrewood St,Meadowvale,6066,lara@two.example,AU\n")
    import_csv(first, source_name="Web", actor=SYSTEM)
    report = import_csv(again, source_name="Expo", actor=SYSTEM)
    assert (report.people_new, report.review) == (1, 1)
    pair = DuplicatePair.objects.get()
    assert "+2 same street number" in pair.reasons
