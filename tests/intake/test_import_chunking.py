"""An import makes the same people whatever its chunk size, and its dry run predicts them.

Hypothesis writes lists of inquiries from a few people, each row a variant of its person (a
nickname, a typo in the surname, a missing email or phone, another product line, a colleague
who shares the company's line), into a database that already knows some of them. The same file
is imported with chunk sizes 1, 3, 500 and 100,000 (each inside a savepoint rolled back after),
and dry-run once: the rows fall into the same people, the people end with the same fields, the
same pairs wait for review, and the counts are those the dry run printed.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadrefinery.dedupe.models import DuplicatePair
from leadrefinery.intake.importing import ImportReport, import_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import IntakeRecord, Lead, Person

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("import")
HEADER = ["First Name", "Last Name", "Email", "Phone", "Company", "Zip", "Product", "Country"]
PEOPLE = [
    ("Robert", "Brown", "Brown Freight", "94107", "+1 415 555 0100"),
    ("Patricia", "Brown", "Brown Freight", "94107", "+1 415 555 0100"),  # a colleague
    ("Katherine", "Okafor", "Lumen Labs", "10001", "+1 212 555 0142"),
    ("William", "Nakamura", "Harbor Tools", "60601", "+1 312 555 0177"),
    ("Grace", "Jones", "Jones & Daughters", "30301", "+1 404 555 0123"),
    ("Grace", "Jones", "Peachtree Dental", "98101", "+1 206 555 0190"),  # a namesake
]
NICKNAMES = {"Robert": "Bob", "Katherine": "Kate", "William": "Bill"}


class _Rollback(Exception):
    pass


def _typo(name: str) -> str:
    return name[0] + name[2] + name[1] + name[3:] if len(name) > 3 else name


row_strategy = st.tuples(
    st.integers(0, len(PEOPLE) - 1),
    st.sampled_from(["as is", "nickname", "typo", "no email", "no phone", "other product"]),
    st.booleans(),  # with the postcode
)


def _row(index: int, change: str, with_zip: bool) -> list[str]:
    first, last, company, postcode, phone = PEOPLE[index]
    email = f"{first}.{last}{index}@{company.split()[0].lower()}.example".lower()
    product = "Fleet" if change == "other product" else ""
    if change == "nickname":
        first = NICKNAMES.get(first, first)
    elif change == "typo":
        last = _typo(last)
    elif change == "no email":
        email = ""
    elif change == "no phone":
        phone = ""
    return [first, last, email, phone, company, postcode if with_zip else "", product, "US"]


def _file(rows: list[list[str]]) -> io.StringIO:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return io.StringIO(out.getvalue())


def _outcome(report: ImportReport, known: set[int]) -> tuple:
    """The people the import's rows became, named so that two runs compare: a person known
    before by its id, a new one by the first row that made it; with their fields; and the
    pairs waiting for review, and the counts."""
    records = IntakeRecord.objects.filter(import_batch_id=report.batch_id).order_by("row_number")
    name: dict[int, str] = {}
    rows = []
    for number, person_id in records.values_list("row_number", "person_id"):
        if person_id not in name:
            name[person_id] = f"known {person_id}" if person_id in known else f"row {number}"
        rows.append((number, name[person_id]))
    fields = ("first_name", "last_name", "email", "phone", "company_name", "postcode", "city")
    people = {
        name[p["pk"]]: tuple(p[f] for f in fields)
        for p in Person.objects.filter(pk__in=name).values("pk", *fields)
    }
    pairs = {
        tuple(sorted((name.get(a, f"known {a}"), name.get(b, f"known {b}"))))
        for a, b in DuplicatePair.objects.values_list("person_a_id", "person_b_id")
    }
    counts = _counts(report)
    return rows, people, pairs, counts


def _counts(report: ImportReport) -> tuple[int, ...]:
    return (
        report.imported,
        report.rejected,
        report.new_leads,
        report.attached,
        report.people_new,
        report.people_attached,
        report.review,
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    known=st.lists(row_strategy, max_size=4),
    rows=st.lists(row_strategy, min_size=1, max_size=14),
)
def test_the_same_people_for_any_chunk_size_and_as_the_dry_run_said(known, rows):
    try:
        with transaction.atomic():
            if known:
                import_csv(
                    _file([_row(*r) for r in known]), source_name="CRM", actor=SYSTEM, again=True
                )
            known_ids = set(Person.objects.values_list("pk", flat=True))
            leads_before = Lead.objects.count()
            body = [_row(*r) for r in rows]
            dry = import_csv(_file(body), source_name="Expo", dry_run=True, actor=SYSTEM)
            outcomes = {}
            for size in (1, 3, 500, 100_000):
                try:
                    with transaction.atomic():
                        report = import_csv(  # the same file as the known rows, at times
                            _file(body),
                            source_name="Expo",
                            actor=SYSTEM,
                            chunk_size=size,
                            again=True,
                        )
                        outcomes[size] = _outcome(report, known_ids)
                        leads_after = Lead.objects.count()
                        raise _Rollback
                except _Rollback:
                    pass
                assert leads_after - leads_before == report.new_leads
            first = outcomes[1]
            for size, outcome in outcomes.items():
                assert outcome[0] == first[0], f"rows fell into other people with chunk {size}"
                assert outcome[1] == first[1], f"other fields on the people with chunk {size}"
                assert outcome[2] == first[2], f"other pairs to review with chunk {size}"
                assert outcome[3] == _counts(dry), f"the dry run mispredicted chunk {size}"
            raise _Rollback
    except _Rollback:
        pass


def test_a_later_row_fills_in_the_person_an_earlier_row_of_the_same_chunk_made():
    """The second row is the first row's person with the postcode: the person gets it whether
    the two rows are in one chunk or in two (in one chunk it used to be lost)."""
    rows = [_row(0, "as is", False), _row(0, "no email", True)]
    seen = []
    for size in (1, 500):
        try:
            with transaction.atomic():
                report = import_csv(_file(rows), source_name="Expo", actor=SYSTEM, chunk_size=size)
                person = Person.objects.get()
                seen.append((report.people_new, report.people_attached, person.postcode))
                raise _Rollback
        except _Rollback:
            pass
    assert seen == [(1, 1, "94107"), (1, 1, "94107")]
