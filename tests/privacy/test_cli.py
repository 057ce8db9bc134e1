"""`refinery person export|erase` as an admin runs it: help, the JSON file, the confirmation,
people merged together handled as one."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from leadrefinery.dedupe.merging import person_merge
from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Person
from leadrefinery.privacy.models import PrivacyEvent

pytestmark = pytest.mark.django_db


def test_every_subcommand_and_option_has_help(capsys):
    for args in (
        ["person", "--help"],
        ["person", "export", "--help"],
        ["person", "erase", "--help"],
    ):
        with pytest.raises(SystemExit):
            call_command(*args)
    text = capsys.readouterr().out
    for words in ("export", "erase", "--reason", "--yes", "--output", "email address"):
        assert words in text, words


def test_export_writes_the_merged_people_and_their_leads_to_a_file(make_lead, users, tmp_path):
    one = make_lead(email="grace@example.com", first_name="Grace")
    other = make_lead(email="g.jones@work.example", first_name="Grace")
    person_merge(survivor=one.person, loser=other.person, actor=Actor.of(users.admin))
    target = tmp_path / "grace.json"
    call_command(
        "person", "export", "g.jones@work.example", "--output", str(target), "--user", "admin"
    )
    document = json.loads(target.read_text())
    assert sorted(document["person_ids"]) == sorted([one.person_id, other.person_id])
    assert {p["email"] for p in document["tables"]["leads.Person"]} == {
        "grace@example.com",
        "g.jones@work.example",
    }
    assert PrivacyEvent.objects.get(kind="export").actor == users.admin


def test_erase_without_yes_and_without_a_terminal_refuses(make_lead):
    lead = make_lead(email="grace@example.com")
    with pytest.raises(CommandError, match="--yes"):
        call_command("person", "erase", "grace@example.com", "--reason", "ticket 7")
    assert Person.objects.get(pk=lead.person_id).email == "grace@example.com"


def test_erase_asks_and_does_nothing_unless_confirmed(make_lead, monkeypatch):
    lead = make_lead(email="grace@example.com")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="not erased"):
        call_command("person", "erase", str(lead.person_id), "--reason", "ticket 7")
    assert Person.objects.get(pk=lead.person_id).email == "grace@example.com"
    monkeypatch.setattr("builtins.input", lambda prompt: "erase")
    call_command("person", "erase", str(lead.person_id), "--reason", "ticket 7")
    assert Person.objects.get(pk=lead.person_id).email == ""


def test_an_unknown_person_or_a_non_admin_is_refused(make_lead, users):
    make_lead(email="grace@example.com")
    with pytest.raises(CommandError, match="no person"):
        call_command("person", "export", "nobody@example.com")
    with pytest.raises(CommandError, match="not an admin"):
        call_command(
            "person", "erase", "grace@example.com", "--reason", "x", "--yes", "--user", "ron"
        )
