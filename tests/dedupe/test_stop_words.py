"""A name shared by more than MAX_BLOCK stored people is a stop word for matching: intake does
not compare a new 'Maria Keller' with every stored one (as the offline scan does not), while
the other blocks still find the same person."""

from __future__ import annotations

import pytest

from leadrefinery.common.clock import now
from leadrefinery.dedupe.domain import MAX_BLOCK
from leadrefinery.dedupe.keys import apply_keys
from leadrefinery.dedupe.models import DuplicatePair
from leadrefinery.leads.models import Person

pytestmark = pytest.mark.django_db


def _store_namesakes(count: int) -> list[Person]:
    at = now()
    people = []
    for i in range(count):
        person = Person(
            email=f"maria.keller.{i}@firm{i}.example",
            first_name="Maria",
            last_name="Keller",
            city="Springfield",
            created_at=at,
            updated_at=at,
        )
        apply_keys(person)
        people.append(person)
    return Person.objects.bulk_create(people)


def _namesake(inquire, **fields):
    return inquire(
        email=fields.pop("email", "m.keller@elsewhere.example"),
        first_name="Maria",
        last_name="Keller",
        city="Springfield",
        **fields,
    )


def test_a_few_namesakes_in_the_same_city_are_proposed_for_review(inquire):
    stored = _store_namesakes(3)
    answer = _namesake(inquire)
    pairs = DuplicatePair.objects.all()
    assert {(p.person_a_id, p.person_b_id) for p in pairs} == {
        (s.pk, answer["person_id"]) for s in stored
    }


def test_a_name_held_by_more_than_max_block_people_proposes_none(inquire):
    _store_namesakes(MAX_BLOCK + 1)
    answer = _namesake(inquire)
    assert answer["outcome"] == "new_lead"
    assert not DuplicatePair.objects.exists()
    assert Person.objects.count() == MAX_BLOCK + 2


def test_the_same_email_still_attaches_behind_a_stop_word_name(inquire):
    stored = _store_namesakes(MAX_BLOCK + 1)
    answer = _namesake(inquire, email=stored[7].email)
    assert answer["person_id"] == stored[7].pk
    assert Person.objects.count() == MAX_BLOCK + 1


def test_in_a_file_a_name_becomes_a_stop_word_past_max_block_people_stored_and_seen():
    """An import matches its rows against the stored people and the file's earlier rows: a
    name held by more than MAX_BLOCK of them together is a stop word there too. Namesakes
    are then no longer compared by name, and a row with an earlier row's email still
    attaches to it."""
    from leadrefinery.dedupe.services import Matcher

    _store_namesakes(MAX_BLOCK - 10)

    def row(i: int) -> dict[str, str]:
        return {
            "email": f"maria.{i}@file{i}.example",
            "first_name": "Maria",
            "last_name": "Keller",
            "city": "Springfield",
        }

    matcher = Matcher()
    first = matcher.match([row(i) for i in range(5)])
    assert all(r.review for r in first)  # namesakes in the same city: for review
    later = matcher.match([row(i) for i in range(5, 20)] + [row(3)])
    # The 11th row of the file makes 201 people with the name: from then on, no name pairs.
    assert [bool(r.review) for r in later[:5]] == [True] * 5
    assert not any(r.review for r in later[5:15])
    assert later[15].same_as_row == 3  # the same email still finds the earlier row
