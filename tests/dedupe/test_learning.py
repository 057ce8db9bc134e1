"""Learnt match weights (dedupe/learning.py): EM finds the m and u that made the pairs, a
level it never sees among matches keeps its hand-set weight, and ``compare`` gives the levels
that ``score`` weighs."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrefinery.dedupe import domain, learning
from leadrefinery.dedupe.learning import Learnt
from leadrefinery.dedupe.weights import COMPARISONS, LEVELS, Weights, default

# A made-up list: for three fields, how often each level shows between two records of one
# human (m) and of two humans (u).
M = {
    "first_name": {"same": 0.85, "typo": 0.08, "likely": 0.04, "differ": 0.03},
    "last_name": {"same": 0.9, "typo": 0.05, "likely": 0.03, "differ": 0.02},
    "postcode": {"same": 0.8, "typo": 0.1, "differ": 0.1},
}
U = {
    "first_name": {"same": 0.01, "typo": 0.01, "likely": 0.03, "differ": 0.95},
    "last_name": {"same": 0.004, "typo": 0.006, "likely": 0.02, "differ": 0.97},
    "postcode": {"same": 0.002, "typo": 0.018, "differ": 0.98},
}


def _draw(rng: random.Random, table: dict[str, dict[str, float]]) -> learning.Pattern:
    levels = {}
    for comparison, shares in table.items():
        names, weights = zip(*shares.items(), strict=True)
        levels[comparison] = rng.choices(names, weights)[0]
    return learning.pattern(levels)


# Found by the email block: it makes no field of these patterns agree, so all are learnt.
BY_EMAIL = frozenset({"email"})


def _pairs(
    seed: int, *, blocked: int, matches: float, by: frozenset[str] = BY_EMAIL
) -> tuple[Counter, Counter]:
    rng = random.Random(seed)
    found: Counter = Counter()
    for _ in range(blocked):
        found[_draw(rng, M if rng.random() < matches else U), by] += 1
    drawn: Counter = Counter(_draw(rng, U) for _ in range(50_000))
    return found, drawn


@pytest.mark.parametrize("seed", [1, 2])
def test_em_finds_the_weights_that_made_the_pairs(seed):
    blocked, drawn = _pairs(seed, blocked=40_000, matches=0.3)
    learnt = learning.estimate(blocked, drawn, records=20_000, start=default(), shrink=0)
    assert learnt.converged
    assert learnt.matches == pytest.approx(12_000, rel=0.05)
    for comparison, shares in M.items():
        for level, m in shares.items():
            truth = math.log2(m / U[comparison][level])
            got = learnt.weights.values[f"{comparison}.{level}"]
            # The rare levels are drawn a few dozen times: within a bit of the truth.
            assert got == pytest.approx(truth, abs=1.0), (comparison, level)
    # The prior: the matches found over all pairs of 20,000 records.
    assert learnt.weights.prior == pytest.approx(math.log2(12_000 / (20_000 * 19_999 / 2)), abs=0.1)


def test_a_level_never_seen_among_matches_keeps_its_hand_set_weight():
    blocked, drawn = _pairs(3, blocked=20_000, matches=0.3)
    learnt = learning.estimate(blocked, drawn, records=10_000, start=default())
    hand = default().values
    # No pair in this list compared emails or phones: what they mean is not learnt.
    for level in LEVELS:
        if level.split(".")[0] in ("email", "phone", "company", "street", "city"):
            assert learnt.weights.values[level] == hand[level], level
    # A level seen in thousands of matched pairs is learnt: first names agreeing count
    # log2(0.85 / 0.01), not the hand-set 4.
    assert learnt.weights.values["first_name.same"] == pytest.approx(math.log2(85), abs=0.3)


def test_learning_is_deterministic():
    blocked, drawn = _pairs(4, blocked=5_000, matches=0.2)
    one = learning.estimate(blocked, drawn, records=3_000, start=default())
    two = learning.estimate(Counter(dict(reversed(blocked.items()))), drawn, records=3_000,
                            start=default())  # fmt: skip
    assert one.weights == two.weights


def test_nothing_to_learn_from_is_an_error():
    with pytest.raises(ValueError, match="no pairs"):
        learning.estimate(Counter(), Counter({("first_name.same",): 1}), records=2, start=default())


def test_a_block_never_learns_what_it_made_agree():
    """Pairs found by the name block agree on both names whether or not they are one human:
    what the names mean is not learnt from them (it keeps the hand-set weight), and the
    postcode is learnt from the names' pairs as usual."""
    rng = random.Random(5)
    blocked: Counter = Counter()
    for _ in range(20_000):
        table = M if rng.random() < 0.4 else U
        names, weights = zip(*table["postcode"].items(), strict=True)
        levels = {"first_name": "same", "last_name": "same"}
        levels["postcode"] = rng.choices(names, weights)[0]
        blocked[learning.pattern(levels), frozenset({"name"})] += 1
    drawn: Counter = Counter(_draw(rng, U) for _ in range(50_000))
    learnt = learning.estimate(blocked, drawn, records=10_000, start=default())
    for level in ("first_name.same", "last_name.same"):
        assert learnt.weights.values[level] == default().values[level]
    assert learnt.weights.values["postcode.same"] == pytest.approx(math.log2(0.8 / 0.002), abs=1)
    assert learnt.matches == pytest.approx(8_000, rel=0.1)


def test_a_place_block_learns_only_the_persons_own_fields():
    """Colleagues found through their company's address share the company and its line as
    one human's records do: pairs found by a place block learn nothing about places."""
    skip = domain.block_comparisons()
    assert skip["address"] >= {"company", "phone", "postcode", "street_number", "street", "city"}
    assert skip["phone"] >= {"company", "postcode", "street"}
    assert not skip["address"] & {"first_name", "last_name", "email"}
    assert skip["name"] == {"first_name", "last_name"}
    assert skip["email"] == {"email"}


NAMES = st.sampled_from(["", "anna", "ana", "anne", "ben", "smith", "smyth", "jones", "lee"])
POSTCODES = st.sampled_from(["", "2000", "2001", "3100"])
NUMBERS = st.sampled_from(["", "12", "13", "120"])
STREETS = st.sampled_from(["", "12 High Street", "12 High St", "4 Low Road", "High Road"])
CITIES = st.sampled_from(["", "Sydney", "Sidney", "Perth"])
EMAILS = st.sampled_from(["", "a@x.example", "b@x.example", "info@x.example"])
PHONES = st.sampled_from(["", "+61255501234", "+61255501243", "+61299998888"])
COMPANIES = st.sampled_from(["", "acme", "acme systems", "zeta 1", "zeta 12"])


@st.composite
def records(draw):
    return domain.Record(
        id=None,
        email=draw(EMAILS),
        email_key=draw(EMAILS),
        phone=draw(PHONES),
        first_name_key=draw(NAMES),
        last_name_key=draw(NAMES),
        company_key=draw(COMPANIES),
        domain_key=draw(st.sampled_from(["", "x.example", "y.example"])),
        postcode_key=draw(POSTCODES),
        street_number_key=draw(NUMBERS),
        street=draw(STREETS),
        city=draw(CITIES),
    )


@st.composite
def weights(draw):
    values = {level: draw(st.floats(-10, 10, allow_nan=False)) for level in LEVELS}
    return Weights.of(values, prior=draw(st.floats(-20, 0)))


@settings(max_examples=300, deadline=None)
@given(records(), records(), weights())
def test_compare_gives_the_levels_that_score_weighs(a, b, w):
    """Without the two rules that are not weights (swapped names, a company's address
    counted at most once), a pair's weight is the prior plus its levels' weights."""
    levels = domain.compare(a, b, weights=w)
    assert set(levels) <= set(COMPARISONS)
    match = domain.score(a, b, weights=w)
    swapped = any("swapped" in r for r in match.reasons)
    # Left out of what is learnt: a shared line (a rule) and, at one company, its address.
    shared_line = bool(a.phone) and a.phone == b.phone and "phone" not in levels
    capped = levels.get("company") == "same"
    if capped:
        assert not set(levels) & {"postcode", "street_number", "street", "city"}
    if not swapped and not capped and not shared_line:
        expected = w.prior + sum(w.values[f"{c}.{lv}"] for c, lv in levels.items())
        assert match.weight == pytest.approx(expected)
    # And every reason with a weight names it as the model has it.
    for level in (f"{c}.{lv}" for c, lv in levels.items()):
        if w.values[level] and not swapped and not (capped and level.split(".")[0] in
                                                     ("postcode", "street_number", "street",
                                                      "city")):  # fmt: skip
            assert any(r.startswith(f"{w.values[level]:+.4g} ") for r in match.reasons), level


def test_weights_that_do_not_tell_one_human_from_two_are_doubted():
    blocked, drawn = _pairs(6, blocked=10_000, matches=0.3)
    learnt = learning.estimate(blocked, drawn, records=5_000, start=default())
    assert learning.doubts(learnt) == []
    values = dict(learnt.weights.values, **{"city.same": -1.0, "company.differ": 4.0})
    odd = Learnt(**{**vars(learnt), "weights": Weights.of(values, prior=-10)})
    (doubt,) = learning.doubts(odd)
    assert doubt.startswith("the weights learnt do not tell one human from two: ")
    assert "cities that agree would count -1" in doubt
    assert "companies that agree would count +4 and ones that differ +4" in doubt
    few = Learnt(**{**vars(learnt), "matches": 12.0})
    assert "about 12 pairs of records of one human, too few" in learning.doubts(few)[0]
