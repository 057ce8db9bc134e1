"""The headline check: 10,000 rows with 5% bad ones; dry run, import, undo.

The file is generated here (seeded, so every run sees the same rows): realistic names,
companies and countries, with 500 bad rows of three kinds (invalid email, invalid phone,
neither email nor phone) whose row numbers and columns are known in advance.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
import pytest
from django.core.management import call_command

from leadrefinery.intake.importing import import_batch_undo, import_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import (
    Account,
    ImportBatch,
    IntakeRecord,
    Lead,
    LeadEvent,
    Person,
    Source,
    Touch,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kofi",
    "Lena",
    "Marco",
    "Nadia",
    "Omar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Andersen",
    "Becker",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Vogel",
    "Weber",
    "Xu",
    "Young",
    "Zimmermann",
]
COMPANY_WORDS = [
    "Acme",
    "Northwind",
    "Contoso",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Gringotts",
    "Oscorp",
]
COMPANY_SUFFIX = ["GmbH", "Inc.", "Ltd", "S.A.", "B.V.", "AB", "LLC", "Pty Ltd", "SAS", "Srl"]
COUNTRIES = {
    "US": ("United States", "+1 {a}{b}{c} 555 01{d}{e}"),
    "GB": ("United Kingdom", "+44 20 79{a}{b} {c}{d}{e}0"),
    "DE": ("Germany", "+49 30 9{a}{b}{c}{d}{e}0"),
    "FR": ("France", "+33 1 4{a} {b}{c} {d}{e} 00"),
    "NL": ("Netherlands", "+31 20 {a}{b}{c} {d}{e}00"),
    "CA": ("Canada", "+1 416 555 01{d}{e}"),
    "AU": ("Australia", "+61 2 9{a}{b}{c} {d}{e}00"),
    "SE": ("Sweden", "+46 8 {a}{b}{c} {d}{e}0 0"),
}
TITLES = ["CTO", "Head of Operations", "Procurement Manager", "IT Director", "CFO", "Engineer"]
HEADER = [
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Company Name",
    "Job Title",
    "Country/Region",
    "City",
    "Create Date",
]


@dataclass(frozen=True)
class BadRow:
    row: int  # spreadsheet row number
    column: str  # the header that holds the problem
    kind: str


def _phone(rng: random.Random, country: str, used: set[str]) -> str:
    """A valid number not used before (a shared phone makes two rows one person)."""
    pattern = COUNTRIES[country][1]
    for _ in range(200):
        digits = {k: str(rng.randint(2, 9)) for k in "abcde"}
        number = pattern.format(**digits)
        if number not in used and phonenumbers.is_valid_number(phonenumbers.parse(number)):
            used.add(number)
            return number
    return ""


def make_csv(
    path: Path,
    rows: int = 10_000,
    bad_every: int = 20,
    seed: int = 7,
    email_prefix: str = "",
    phone_share: float = 0.5,
) -> list[BadRow]:
    """Write a CSV of ``rows`` inquiries; every ``bad_every``-th row is bad. Returns the bad rows."""
    rng = random.Random(seed)
    bad: list[BadRow] = []
    used: set[str] = set()
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(rows):
            number = i + 2  # the header is row 1
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIX)}"
            country = rng.choice(list(COUNTRIES))
            domain = company.split()[0].lower() + rng.choice([".com", ".io", ".de", ".co.uk"])
            email = f"{email_prefix}{first}.{last}.{i}@{domain}".lower()
            phone = _phone(rng, country, used) if rng.random() < phone_share else ""
            if i % bad_every == bad_every - 1:
                kind = ("email", "phone", "neither")[(i // bad_every) % 3]
                if kind == "email":  # and no phone: no valid way to reach the person
                    phone = ""
                    email = rng.choice(
                        [f"{first}.{last}.at.{domain}", f"{first}@", f"{last}@@{domain}"]
                    )
                    bad.append(BadRow(number, "Email", kind))
                elif kind == "phone":  # and no email: no valid way to reach the person
                    phone = rng.choice(["12345", "call me", "+1 000"])
                    email = ""
                    bad.append(BadRow(number, "Phone Number", kind))
                else:
                    email = phone = ""
                    bad.append(BadRow(number, "Email", kind))
            created = f"2026-02-{rng.randint(1, 28):02d}T{rng.randint(7, 18):02d}:{rng.randint(0, 59):02d}:00Z"
            city = rng.choice(
                ["Berlin", "London", "Austin", "Lyon", "Utrecht", "Toronto", "Sydney", "Malmo"]
            )
            writer.writerow(
                [
                    first,
                    last,
                    email,
                    phone,
                    company,
                    rng.choice(TITLES),
                    COUNTRIES[country][0],
                    city,
                    created,
                ]
            )
    return bad


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Person, Lead, IntakeRecord, ImportBatch, Source, Account, Touch, LeadEvent)
    }


def test_ten_thousand_rows_dry_run_import_and_undo(tmp_path, make_lead, capsys):
    bad = make_csv(tmp_path / "expo.csv")
    assert len(bad) == 500
    bad_rows = {b.row for b in bad}
    expected_errors = {(b.row, b.column) for b in bad}
    actor = Actor.system("import")
    # Another channel's lead, and another batch, that must survive the undo untouched.
    api_lead = make_lead(email="someone@elsewhere.example")
    make_csv(tmp_path / "other.csv", rows=200, seed=99, email_prefix="other.", phone_share=0)
    other = import_csv(tmp_path / "other.csv", source_name="Webinar list", actor=actor)
    assert other.new_leads == 190

    before = _counts()
    dry = import_csv(tmp_path / "expo.csv", source_name="Expo 2026", dry_run=True, actor=actor)
    assert _counts() == before, "a dry run writes nothing"
    assert dry.batch_id is None and dry.dry_run
    assert (dry.total_rows, dry.imported, dry.rejected) == (10_000, 9_500, 500)
    assert (dry.new_leads, dry.attached) == (9_500, 0)
    assert {(e.row, e.column) for e in dry.errors} == expected_errors

    report = import_csv(tmp_path / "expo.csv", source_name="Expo 2026", actor=actor)
    assert (report.total_rows, report.imported, report.rejected) == (10_000, 9_500, 500)
    assert (report.new_leads, report.attached) == (9_500, 0)
    assert {(e.row, e.column) for e in report.errors} == expected_errors
    assert {e.row for e in report.errors} == bad_rows
    batch = ImportBatch.objects.get(pk=report.batch_id)
    assert (batch.imported_rows, batch.rejected_rows, batch.source.name) == (
        9_500,
        500,
        "Expo 2026",
    )
    assert batch.source.channel == Source.Channel.LIST_PURCHASE
    assert Lead.objects.filter(import_batch=batch, stage="inquiry").count() == 9_500
    # Every bad row is kept raw as a rejected record, and made no person or lead.
    rejected = IntakeRecord.objects.filter(import_batch=batch, status="rejected")
    assert set(rejected.values_list("row_number", flat=True)) == bad_rows
    assert not rejected.filter(lead__isnull=False).exists()
    assert Person.objects.count() == before["Person"] + 9_500
    one_bad = next(b for b in bad if b.kind == "neither")
    error = next(e for e in report.errors if e.row == one_bad.row)
    assert "email address or a phone number is required" in error.message

    call_command("checkleads")
    undo = import_batch_undo(batch_id=report.batch_id, actor=actor)
    assert (undo.leads_closed, undo.kept, undo.touches_voided) == (9_500, [], 0)
    assert not Lead.objects.filter(
        import_batch=batch, stage__in=["inquiry", "nurture", "qualifying"]
    ).exists()
    assert set(Lead.objects.filter(import_batch=batch).values_list("disposition", flat=True)) == {
        "import_undone"
    }
    other_leads = Lead.objects.filter(import_batch_id=other.batch_id)
    assert other_leads.count() == 190 and not other_leads.exclude(stage="inquiry").exists()
    api_lead.refresh_from_db()
    assert api_lead.stage == "inquiry" and api_lead.import_batch is None
    call_command("checkleads")
    assert "All lead invariants hold" in capsys.readouterr().out
