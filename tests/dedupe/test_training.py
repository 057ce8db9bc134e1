"""`refinery dedupe-train`: weights learnt from the people stored, used from then on by the
scan and by matching, and set aside by `--reset`."""

from __future__ import annotations

import random

import pytest
from django.core.management import CommandError, call_command

from leadrefinery.common.clock import now
from leadrefinery.dedupe import selectors
from leadrefinery.dedupe.keys import person_keys
from leadrefinery.dedupe.models import DuplicatePair, MatchModel
from leadrefinery.dedupe.services import Matcher, dedupe_scan
from leadrefinery.dedupe.training import dedupe_train
from leadrefinery.dedupe.weights import default
from leadrefinery.leads.models import Person

pytestmark = pytest.mark.django_db

FIRST = ["Anna", "Bernard", "Carla", "Deborah", "Erin", "Frances", "Gustav", "Hannah", "Ivor",
         "Joanna", "Kenneth", "Laura", "Marcus", "Nadia", "Oliver", "Priya", "Quentin",
         "Rosa", "Stefan", "Tamsin", "Ulrich", "Valerie", "Walter", "Xenia", "Yusuf", "Zora"]  # fmt: skip
LAST = ["Abara", "Baker", "Chen", "Diaz", "Eze", "Fox", "Gray", "Hale", "Ito", "Jones", "Kerr",
        "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinlan", "Romero", "Schmidt",
        "Tanaka", "Urquhart", "Vasquez", "Whitfield", "Yilmaz", "Zielinski"]  # fmt: skip
STREETS = ["High", "Mill", "Station", "Church", "Park", "Victoria", "Green", "Manor", "Kings",
           "Queens", "Grange", "Albert", "North", "South", "West", "Windsor", "Cedar", "Elm"]  # fmt: skip


def _person(**fields: str) -> Person:
    at = now()
    return Person.objects.create(**fields, **person_keys(fields), created_at=at, updated_at=at)


def _typo(name: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(name) - 1)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


@pytest.fixture
def stored():
    """300 people in 150 postcodes, and a second record for 90 of them (another mailbox, a
    typo in a name or a street written another way): 90 true pairs among many namesakes."""
    rng = random.Random(7)
    people = []
    for i in range(300):
        people.append(
            {
                "email": f"p{i}@mail{i % 40}.example",
                "first_name": rng.choice(FIRST),
                "last_name": rng.choice(LAST),
                "street": f"{rng.randrange(1, 200)} {rng.choice(STREETS)} Street",
                "postcode": f"{2000 + rng.randrange(150)}",
                "city": rng.choice(["Springfield", "Shelbyville", "Ogdenville", "Brockway"]),
            }
        )
    for fields in people:
        _person(**fields)
    for i, fields in enumerate(people[:90]):
        again = dict(fields, email=f"other{i}@elsewhere.example")
        if i % 3 == 0:
            again["first_name"] = _typo(fields["first_name"], rng)
        elif i % 3 == 1:
            again["last_name"] = _typo(fields["last_name"], rng)
        else:
            again["street"] = fields["street"].replace("Street", "St")
        _person(**again)


def test_weights_learnt_are_used_by_matching_and_by_the_scan(stored, capsys):
    call_command("dedupe_train", "--no-progress")
    out = capsys.readouterr().out
    model = MatchModel.objects.get()
    assert f"Saved as match model {model.pk}" in out
    assert "first_name.same" in out and "hand-set" in out
    learnt = selectors.match_weights()
    assert learnt.model_id == model.pk
    assert Matcher().weights.model_id == model.pk
    # Learnt from this list: first names agreeing among nine names mean less than the
    # hand-set weight says, and different mailboxes say nothing here (every second record
    # has another one).
    assert learnt.values != default().values
    assert learnt.values["email.differ"] > default().values["email.differ"]
    assert 70 <= model.matches <= 130  # EM finds about the 90 pairs planted
    dedupe_scan()
    pairs = list(DuplicatePair.objects.all())
    assert pairs
    # Every reason a pair shows carries the learnt weight.
    shown = {
        r.split(" ", 1)[1].split(" (")[0]: r.split(" ", 1)[0] for p in pairs for r in p.reasons
    }
    assert shown["first names agree"] == f"{learnt.values['first_name.same']:+.4g}"
    assert shown["different emails"] == f"{learnt.values['email.differ']:+.4g}"


def test_learning_twice_from_the_same_people_gives_the_same_weights(stored):
    one = dedupe_train(save=False).learnt
    two = dedupe_train(save=False).learnt
    assert one is not None and two is not None
    assert one.weights == two.weights
    assert not MatchModel.objects.exists()


def test_a_dry_run_shows_the_weights_and_keeps_the_current_ones(stored, capsys):
    call_command("dedupe_train", "--no-progress", "--dry-run")
    assert "Dry run: matching keeps its current weights." in capsys.readouterr().out
    assert not MatchModel.objects.exists()
    assert selectors.match_weights() == default()


def test_too_few_people_learn_nothing():
    for i in range(20):
        _person(email=f"p{i}@x.example", first_name="Anna", last_name=f"Lee{i}")
    with pytest.raises(CommandError, match="Nothing learnt: 20 people"):
        call_command("dedupe_train", "--no-progress")
    assert not MatchModel.objects.exists()


def test_reset_goes_back_to_the_hand_set_weights_and_keeps_the_model(stored, capsys):
    call_command("dedupe_train", "--no-progress")
    assert selectors.match_weights().learnt
    call_command("dedupe_train", "--reset")
    assert "hand-set weights again (1 learnt model(s) set aside)" in capsys.readouterr().out
    assert selectors.match_weights() == default()
    assert MatchModel.objects.filter(active=False).count() == 1


def test_the_scan_learns_the_weights_when_due(stored, capsys):
    call_command("dedupe_scan", "--no-progress")
    out = capsys.readouterr().out
    first = MatchModel.objects.get()
    assert f"Learnt the match weights from 390 people (match model {first.pk}" in out
    found = DuplicatePair.objects.count()
    assert found
    # Not again while the people have not doubled; then again.
    call_command("dedupe_scan", "--no-progress")
    assert "Learnt" not in capsys.readouterr().out
    assert MatchModel.objects.count() == 1
    for i in range(400):
        _person(email=f"new{i}@x{i}.example", first_name=FIRST[i % 26], last_name=f"New{i}")
    call_command("dedupe_scan", "--no-progress")
    assert "Learnt the match weights from 790 people" in capsys.readouterr().out
    assert MatchModel.objects.count() == 2
    assert selectors.match_weights().model_id == MatchModel.objects.order_by("-id")[0].pk


def test_the_scan_can_be_told_not_to_learn(stored, capsys):
    call_command("dedupe_scan", "--no-progress", "--no-learn")
    assert not MatchModel.objects.exists()
    call_command("dedupe_scan", "--no-progress", "--learn")
    call_command("dedupe_scan", "--no-progress", "--learn")
    assert MatchModel.objects.count() == 2


def test_a_list_without_duplicates_teaches_nothing_and_the_next_list_still_attaches(capsys):
    """300 different people stored, none of them twice: there is nothing to learn what a
    duplicate looks like from, so the weights stay the hand-set ones, and the next inquiry
    from one of them still attaches (learnt from such a list, the prior said that nobody is
    ever anyone else)."""
    rng = random.Random(11)
    for i in range(300):
        _person(
            email=f"p{i}@mail.example",
            first_name=FIRST[i % 26],
            last_name=LAST[i // 26 % 25],
            street=f"{rng.randrange(1, 200)} {rng.choice(STREETS)} Street",
            postcode=f"{2000 + rng.randrange(20)}",
            city="Springfield",
        )
    call_command("dedupe_scan", "--no-progress")
    out = capsys.readouterr().out
    assert "Kept the match weights in use:" in out and "too few to learn from" in out
    assert not MatchModel.objects.exists()
    stored = Person.objects.order_by("pk")[7]
    again = {
        "email": "someone.else@mail.example",
        "first_name": stored.first_name,
        "last_name": stored.last_name,
        "street": stored.street,
        "postcode": stored.postcode,
        "city": stored.city,
    }
    (match,) = Matcher().match([again])
    assert match.person == stored


def test_with_learnt_weights_intake_attaches_a_repeat_and_not_a_namesake(stored):
    call_command("dedupe_train", "--no-progress")
    assert selectors.match_weights().learnt
    person = Person.objects.order_by("pk")[150]  # one without a second record
    repeat = {
        "email": "new.mailbox@elsewhere.example",
        "first_name": person.first_name,
        "last_name": _typo(person.last_name, random.Random(1)),
        "street": person.street,
        "postcode": person.postcode,
        "city": person.city,
    }
    namesake = {
        "email": "namesake@elsewhere.example",
        "first_name": person.first_name,
        "last_name": person.last_name,
        "street": "7 Nowhere Lane",
        "postcode": "9999",
        "city": "Capital City",
    }
    found, other = Matcher().match([repeat, namesake])
    assert found.person == person
    assert any("Jaro-Winkler" in r for r in found.match.reasons)  # explained, typo and all
    assert other.person is None and other.same_as_row is None


def test_the_scan_finds_the_same_pairs_with_the_batches_kept_from_learning(stored, monkeypatch):
    def pairs() -> set[tuple[int, int, float]]:
        return set(DuplicatePair.objects.values_list("person_a_id", "person_b_id", "score"))

    dedupe_scan(learn=True)  # 390 people: held in memory, learning's batches kept for the scan
    kept = pairs()
    assert kept
    weights = selectors.match_weights().values
    DuplicatePair.objects.all().delete()
    monkeypatch.setattr(selectors, "HELD_PEOPLE", 0)  # batches read from the database, twice
    dedupe_scan(learn=True)
    assert pairs() == kept
    assert selectors.match_weights().values == weights


def test_held_batches_are_the_batches_read_from_the_database(stored):
    """A small store is indexed in memory for the scan and learning: the same people,
    records and block keys, each key's people in the same order, as the database's reads give
    them, with the people's variants and without a merged person."""
    from leadrefinery.dedupe.services import variants_record

    people = list(Person.objects.order_by("pk")[:40])
    written_again = [
        {"email": p.email, "first_name": p.first_name, "last_name": p.last_name + "e",
         "postcode": "9" + p.postcode}
        for p in people[:30]
    ]  # fmt: skip
    variants_record(list(zip(people, written_again, strict=False)), at=now())
    Person.objects.filter(pk=people[5].pk).update(merged_into=people[6])

    def batches(made) -> list:
        return [
            (
                [p.pk for p in batch],
                {pk: [r.__repr__() for r in own] for pk, own in records.items()},
                {key: [(pk, repr(r)) for pk, r in found] for key, found in index.items()},
            )
            for batch, records, index in made
        ]

    read = batches(selectors.scan_batches(64))
    assert batches(selectors.scan_batches_held(64)) == read
    assert len(read) == 7  # 390 people in batches of 64
    assert people[5].pk not in read[0][1] and len(read[0][1][people[0].pk]) == 2  # row, variant
    # The first batch's keys list people of later batches too.
    assert any(pk > read[0][0][-1] for found in read[0][2].values() for pk, _ in found)


def test_too_few_random_pairs_is_refused_with_a_clear_error(stored):
    with pytest.raises(CommandError, match="--random-pairs: at least 1000"):
        call_command("dedupe_train", "--no-progress", "--random-pairs", "10")
    assert not MatchModel.objects.exists()


def test_random_pairs_compared_in_a_fork_teach_what_they_teach_compared_in_turn(
    stored, monkeypatch
):
    """Held batches: the random pairs are compared on the other core while the blocked pairs
    are gone through, then from both ends; the same sample, pairs and weights as a store read
    batch by batch."""
    from leadrefinery.common import forking
    from leadrefinery.dedupe import training

    monkeypatch.setattr(forking, "can_fork", lambda: True)  # a browser test's idle server
    made: list[bool] = []  # whether each BothEnds made its fork

    class Recorded(forking.BothEnds):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            made.append(self._fork is not None)

    monkeypatch.setattr(training, "BothEnds", Recorded)
    assert not made
    beside = dedupe_train(save=False, batches=list(selectors.scan_batches_held(64))).learnt
    assert made == [True]
    in_turn = dedupe_train(save=False, batches=selectors.scan_batches(64)).learnt
    assert made == [True]  # read batch by batch: drawn as it goes, here
    assert beside is not None and in_turn is not None
    assert beside.random_pairs == in_turn.random_pairs == 50_000
    assert beside.u == in_turn.u and beside.weights == in_turn.weights


@pytest.mark.parametrize("size", [0, 1, 2, 3, 7, 4096, 4097, 6169])
def test_random_pairs_are_drawn_as_randrange_draws_them(size):
    """The pairs learning compares: two different positions of the sample, the draws
    ``Random.randrange`` makes for the same seed (the learnt weights do not move)."""
    from leadrefinery.dedupe.training import _pair_draws

    rng = random.Random(11)
    expected = []
    for _ in range(2_000 if size > 1 else 0):
        a, b = rng.randrange(size), rng.randrange(size - 1)
        expected.append((a, b + (b >= a)))
    drawn = _pair_draws(size, 2_000, random.Random(11))
    assert drawn == expected
    assert all(a != b and 0 <= a < size and 0 <= b < size for a, b in drawn)
