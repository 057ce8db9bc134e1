"""`refinery dedupe-scan` finds the duplicates planted among existing people by blocking,
never by comparing all pairs, and proposes each pair once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from leadrefinery.common.clock import now
from leadrefinery.dedupe.domain import MAX_BLOCK
from leadrefinery.dedupe.keys import person_keys
from leadrefinery.dedupe.models import DuplicatePair
from leadrefinery.dedupe.services import dedupe_scan
from leadrefinery.leads.models import Person

pytestmark = pytest.mark.django_db

FIRST = ["Anna", "Ben", "Carla", "Dev", "Erin", "Femi", "Gus", "Hana", "Ivo", "Jun"]
LAST = ["Abara", "Baker", "Chen", "Diaz", "Eze", "Fox", "Gray", "Hale", "Ito", "Jones"]


def _person(**fields: str) -> Person:
    at = now()
    return Person.objects.create(**fields, **person_keys(fields), created_at=at, updated_at=at)


@pytest.fixture
def planted():
    """200 distinct people (as an old CRM holds them, before intake matched anything), and
    three duplicates of three of them, each a realistic variant."""
    for i in range(200):
        _person(
            email=f"p{i}@firm{i}.example",
            first_name=FIRST[i % 10],
            last_name=f"{LAST[i // 10 % 10]}{i}",
            company_name=f"Firm {i} Ltd",
            phone=f"+1415555{i:04d}",
        )
    return [
        _person(email="P7@Firm7.example", first_name="Hana"),  # same email, other case
        _person(phone="+14155550031", first_name="Ben", last_name="Diaz31"),  # same phone
        _person(
            email="b.diaz@firm52.example",
            first_name="Carla",
            last_name="Fox52",
            company_name="FIRM 52 Limited",
        ),  # same name at the same company, another email
    ]


def test_scan_finds_the_planted_pairs_by_blocking(planted, capsys):
    call_command("dedupe_scan", "--no-progress", "--batch-size", "64")
    out = capsys.readouterr().out
    pairs = {
        (p.person_a.email.lower() or p.person_a.phone, p.person_b_id)
        for p in DuplicatePair.objects.select_related("person_a")
    }
    assert pairs == {
        ("p7@firm7.example", planted[0].pk),
        ("p31@firm31.example", planted[1].pk),
        ("p52@firm52.example", planted[2].pk),
    }
    assert {p.found_by for p in DuplicatePair.objects.all()} == {"scan"}
    assert "Scanned 203 people" in out and "3 new in the review queue" in out
    comparisons = int(out.split(" comparisons")[0].rsplit(" ", 1)[-1])
    assert comparisons < 20, f"{comparisons}: blocking, not 203*202/2 = 20,503 pairs"


def test_a_second_scan_proposes_nothing_new(planted):
    first = dedupe_scan(batch_size=100)
    second = dedupe_scan(batch_size=100)
    assert (first.proposed, second.found, second.proposed) == (3, 3, 0)
    assert DuplicatePair.objects.count() == 3


def test_the_migration_backfills_keys_of_people_stored_before_dedupe():
    import importlib

    from django.apps import apps

    at = now()
    old = Person.objects.create(
        email="Bob.Smith+x@GoogleMail.com",
        first_name="Bob",
        last_name="Smith",
        company_name="Acme, Inc.",
        created_at=at,
        updated_at=at,
    )
    assert old.email_key == ""
    importlib.import_module("leadrefinery.leads.migrations.0008_backfill_match_keys").backfill(
        apps, None
    )
    old.refresh_from_db()
    assert (old.email_key, old.first_name_key, old.company_key, old.domain_key) == (
        "bobsmith@gmail.com",
        "robert",
        "acme",
        "",
    )


def test_max_block_decides_which_common_keys_the_scan_compares():
    """A name held by more than --max-block people is skipped and reported; raising the limit
    compares them, even past the limit intake applies online (MAX_BLOCK)."""
    for i in range(MAX_BLOCK + 1):
        _person(
            email=f"maria.{i}@firm{i}.example",
            first_name="Maria",
            last_name="Keller",
            city="Springfield",
        )
    out = StringIO()
    call_command("dedupe_scan", "--no-progress", stdout=out)
    assert "too common to compare (raise --max-block" in out.getvalue()
    assert not DuplicatePair.objects.exists()

    # With the hand-set weights (there is nothing to learn from 201 namesakes, none twice).
    call_command(
        "dedupe_scan", "--no-progress", "--no-learn", "--max-block", "300", stdout=StringIO()
    )
    namesakes = MAX_BLOCK + 1
    assert DuplicatePair.objects.count() == namesakes * (namesakes - 1) // 2


def test_scan_finds_a_person_through_another_way_they_were_written():
    """Jon Smyth once wrote in as John Smith of Smith Logistics (a variant kept when that
    inquiry attached to him). A stored John Smith of Smith Logistics shares no key with Jon
    Smyth's own row, but the scan compares him with that variant and proposes the pair."""
    from leadrefinery.dedupe.services import variants_record

    jon = _person(email="jon@smyth.example", first_name="Jon", last_name="Smyth")
    variants_record(
        [
            (
                jon,
                {
                    "email": "jon@smyth.example",
                    "first_name": "John",
                    "last_name": "Smith",
                    "company_name": "Smith Logistics",
                    "phone": "+14155550188",
                    "postcode": "94107",
                    "street": "12 High St",
                },
            )
        ],
        at=now(),
    )
    john = _person(
        email="j.smith@smithlogistics.example",
        first_name="John",
        last_name="Smith",
        company_name="Smith Logistics",
        phone="+14155550188",
        postcode="94107",
        street="12 High St",
    )
    report = dedupe_scan()
    pair = DuplicatePair.objects.get()
    assert (pair.person_a_id, pair.person_b_id) == (jon.pk, john.pk)
    assert report.proposed == 1


def test_what_a_record_is_compared_with_does_not_depend_on_the_records_read_with_it():
    """Jon Smyth's variant (John Smith of Smith Logistics) has a key his own row lacks. A
    record with that key is given the variant alone, whether or not another record read in
    the same batch found Jon's own row."""
    from leadrefinery.dedupe import domain, selectors
    from leadrefinery.dedupe.services import variants_record

    jon = _person(email="jon@smyth.example", first_name="Jon", last_name="Smyth")
    variants_record(
        [(jon, {"email": "jon@smyth.example", "first_name": "John", "last_name": "Smith",
                "company_name": "Smith Logistics", "phone": "+14155550188"})],
        at=now(),
    )  # fmt: skip
    john = domain.Record.of({"first_name": "John", "last_name": "Smith", "phone": "+14155550188"})
    jons_mail = domain.Record.of({"email": "jon@smyth.example"})

    def listed(records: list[domain.Record]) -> dict:
        by_key = selectors.candidate_index(records, variants=True).by_key
        return {
            key: [(stored.pk, record.first_name) for stored, record in by_key[key]]
            for key in domain.block_keys(john)
            if key in by_key
        }

    alone = listed([john])
    assert alone[("phone", ("+14155550188",))] == [(jon.pk, "John")]
    assert listed([jons_mail, john]) == alone


def test_the_migration_fills_the_street_key_of_people_stored_before_it():
    import importlib

    from django.apps import apps

    at = now()
    old = Person.objects.create(
        first_name="Lara", last_name="White", street="12 Boldrewood Street", created_at=at,
        updated_at=at,
    )  # fmt: skip
    assert old.street_key == ""
    importlib.import_module("leadrefinery.leads.migrations.0018_street_key").fill_street_key(
        apps, None
    )
    old.refresh_from_db()
    assert old.street_key == "12 boldrewood"


def test_a_scan_shared_with_a_fork_proposes_what_a_scan_alone_proposes(planted, monkeypatch):
    """A held store's batches are scanned from both ends, a fork taking them from the first:
    the same pairs, scores, reasons, counts and order of writing as the scan in one process."""
    from leadrefinery.common import forking
    from leadrefinery.dedupe import services

    made: list[bool] = []

    class Recorded(forking.BothEnds):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            made.append(self._fork is not None)

    def scanned() -> tuple[list[tuple], tuple[int, int, int, int]]:
        report = dedupe_scan(batch_size=16, learn=False)
        pairs = [
            (p.person_a_id, p.person_b_id, p.score, tuple(p.reasons))
            for p in DuplicatePair.objects.order_by("pk")
        ]
        DuplicatePair.objects.all().delete()
        counts = (report.people, report.comparisons, report.found, report.proposed)
        return pairs, counts

    monkeypatch.setattr(services, "BothEnds", Recorded)
    monkeypatch.setattr(forking, "can_fork", lambda: True)  # a browser test's idle server
    beside = scanned()
    assert made == [True]
    monkeypatch.setattr(forking, "can_fork", lambda: False)
    alone = scanned()
    assert made == [True, False]
    assert beside == alone
    assert len(beside[0]) == 3 and beside[1][0] == 203
