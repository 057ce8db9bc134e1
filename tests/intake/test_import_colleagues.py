"""Colleagues are not one person: two people at one company who share its main line, its
info@ mailbox and a surname, but have different given names, are never attached without a
human; a nickname of the same given name still is."""

from __future__ import annotations

import pytest

from leadrefinery.dedupe.models import DuplicatePair
from leadrefinery.intake.importing import import_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, Person

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("import")
HEAD = "First Name,Last Name,Email,Phone,Company,Country\n"


def _import(tmp_path, body: str, name: str = "list.csv"):
    path = tmp_path / name
    path.write_text(HEAD + body)
    return import_csv(path, source_name="Expo", actor=SYSTEM)


def test_colleagues_sharing_a_line_a_mailbox_and_a_surname_stay_two_people(tmp_path):
    report = _import(
        tmp_path,
        "Caleb,Brown,info@brownfreight.example,+1 415 555 0100,Brown Freight,US\n"
        "Patricia,Brown,info@brownfreight.example,+1 415 555 0100,Brown Freight,US\n",
    )
    assert (report.imported, report.people_new, report.people_attached) == (2, 2, 0)
    assert Person.objects.filter(last_name="Brown").count() == 2
    assert Lead.objects.count() == 2


def test_the_same_rows_in_two_imports_stay_two_people_and_wait_for_review(tmp_path):
    _import(tmp_path, "Caleb,Brown,caleb@brownfreight.example,+1 415 555 0100,Brown Freight,US\n")
    report = _import(
        tmp_path,
        "Patricia,Brown,,+1 415 555 0100,Brown Freight,US\n",
        name="second.csv",
    )
    assert report.people_attached == 0
    assert Person.objects.filter(last_name="Brown").count() == 2
    pair = DuplicatePair.objects.get()
    assert any("given names differ" in r for r in pair.reasons)


def test_a_nickname_of_the_same_given_name_still_attaches(tmp_path):
    _import(tmp_path, "Robert,Brown,,+1 415 555 0100,Brown Freight,US\n")
    report = _import(tmp_path, "Bob,Brown,,+1 415 555 0100,Brown Freight,US\n", name="b.csv")
    assert report.people_attached == 1
    assert Person.objects.filter(last_name="Brown").count() == 1
