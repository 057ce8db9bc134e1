"""Imported rows match people exactly like every other intake: one open lead per person and
product line, within the file, across imports, and across channels. The dry run predicts it."""

import pytest

from leadrefinery.intake.importing import import_csv
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Lead, Person, Touch

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("import")


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_duplicates_within_the_file_attach_to_one_lead(tmp_path):
    path = _write(
        tmp_path,
        "dupes.csv",
        "Email,Phone,First Name,Company\n"
        "omar@okafor.example,+44 20 7946 0123,Omar,Okafor Ltd\n"
        " OMAR@okafor.example ,,Omar,\n"
        ",+44 20 7946 0123,,\n"
        "rosa@rossi.example,,Rosa,Rossi Srl\n",
    )
    dry = import_csv(path, source_name="Expo", dry_run=True, actor=SYSTEM)
    assert (dry.new_leads, dry.attached) == (2, 2)
    report = import_csv(path, source_name="Expo", actor=SYSTEM)
    assert (report.new_leads, report.attached, report.rejected) == (2, 2, 0)
    omar = Person.objects.get(email="omar@okafor.example")
    assert Person.objects.count() == 2
    lead = Lead.objects.get(person=omar)
    assert Touch.objects.filter(lead=lead, channel="import").count() == 3
    assert list(lead.events.filter(kind="inquiry").values_list("kind", flat=True)) == [
        "inquiry",
        "inquiry",
    ]


def test_a_second_import_of_the_same_people_attaches_to_their_open_leads(tmp_path):
    rows = "Email,First Name\nanna@example.org,Anna\nben@example.org,Ben\n"
    first = import_csv(_write(tmp_path, "a.csv", rows), source_name="Webinar", actor=SYSTEM)
    assert (first.new_leads, first.attached) == (2, 0)
    again = _write(tmp_path, "b.csv", rows + "carla@example.org,Carla\n")
    dry = import_csv(again, source_name="Expo", dry_run=True, actor=SYSTEM)
    assert (dry.new_leads, dry.attached) == (1, 2)
    second = import_csv(again, source_name="Expo", actor=SYSTEM)
    assert (second.new_leads, second.attached) == (1, 2)
    assert Lead.objects.count() == 3
    anna = Lead.objects.get(person__email="anna@example.org")
    assert anna.import_batch_id == first.batch_id, "the lead stays with the batch that created it"
    assert anna.touches.filter(import_batch_id=second.batch_id).count() == 1


def test_a_person_known_from_the_api_is_matched_and_another_product_line_is_a_new_lead(
    tmp_path, make_lead
):
    api_lead = make_lead(email="priya@example.in", product_interest="Analytics")
    path = _write(
        tmp_path,
        "p.csv",
        "Email,Product Interest,City,First Name\npriya@example.in,Analytics,Pune,Priyanka\npriya@example.in,Storage,,\n",
    )
    dry = import_csv(path, source_name="Expo", dry_run=True, actor=SYSTEM)
    report = import_csv(path, source_name="Expo", actor=SYSTEM)
    assert (dry.new_leads, dry.attached) == (report.new_leads, report.attached) == (1, 1)
    assert api_lead.touches.filter(channel="import").count() == 1
    assert Lead.objects.filter(person=api_lead.person).count() == 2
    person = Person.objects.get(pk=api_lead.person_id)
    assert (person.city, person.first_name) == ("Pune", "Pat"), (
        "blanks filled in, nothing overwritten"
    )
