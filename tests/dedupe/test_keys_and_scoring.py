"""Match keys and the pure matcher: realistic variants match, look-alikes do not, and every
score says why."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from leadrefinery.dedupe import domain, keys
from leadrefinery.dedupe.domain import Record, Verdict
from leadrefinery.dedupe.weights import DEFAULT_VALUES, LEVELS, Weights

AUTO, REVIEW = 0.95, 0.6


def verdict(a: dict, b: dict) -> Verdict:
    return domain.score(Record.of(a), Record.of(b)).verdict(auto=AUTO, review=REVIEW)


def test_email_keys_follow_each_providers_rules():
    assert keys.email_key("JOHN.Smith@Example.com") == "john.smith@example.com"
    assert keys.email_key("j.o.h.n+crm@googlemail.com") == keys.email_key("john@gmail.com")
    assert keys.email_key("pat+news@outlook.com") == "pat@outlook.com"
    # Other providers: dots and +tags may be different mailboxes; left alone.
    assert keys.email_key("pat.lee+x@acme.com") == "pat.lee+x@acme.com"
    assert keys.email_key("ÉVA@Example.com") == "éva@example.com"


def test_company_name_and_domain_keys():
    assert keys.company_key("Acme, Inc.") == keys.company_key("ACME Incorporated") == "acme"
    assert keys.company_key("The Acme Company") == "acme"
    assert keys.company_key("Müller GmbH") == "muller"
    assert keys.domain_key("https://www.acme.com/contact", "") == "acme.com"
    assert keys.domain_key("", "jo@acme.com") == "acme.com"
    assert keys.domain_key("", "jo@gmail.com") == "", "free mail says nothing about the company"


def test_name_and_postal_keys():
    assert keys.first_name_key("Bob") == keys.first_name_key("ROBERT") == "robert"
    assert keys.first_name_key("Liz") == "elizabeth"
    assert keys.last_name_key("O'Brien") == keys.last_name_key("obrien")
    assert keys.postcode_key("sw1a 1aa") == "SW1A1AA"
    assert keys.street_number_key("221B Baker Street") == "221"
    assert keys.street_key("155 Lambert Street, Broadbridge") == "155 lambert"
    assert keys.street_key("Lambert Street") == "", "no number: no street key"


def test_same_email_in_other_case_is_the_same_person():
    a = {"email": "JOHN.Smith@Example.com", "first_name": "John", "last_name": "Smith"}
    b = {"email": "john.smith@example.com"}
    assert verdict(a, b) == Verdict.AUTO


def test_bob_and_robert_smith_at_acme_go_to_review_and_a_shared_phone_settles_it():
    bob = {
        "email": "bob@acme.com",
        "first_name": "Bob",
        "last_name": "Smith",
        "company_name": "Acme, Inc.",
    }
    robert = {
        "email": "robert.smith@acme.com",
        "first_name": "Robert",
        "last_name": "Smith",
        "company_name": "ACME Incorporated",
    }
    match = domain.score(Record.of(bob), Record.of(robert))
    assert match.verdict(auto=AUTO, review=REVIEW) == Verdict.REVIEW
    assert "+4 first names agree" in match.reasons
    assert "+4 same company (acme)" in match.reasons
    with_phone = domain.score(
        Record.of({**bob, "phone": "+14155550100"}), Record.of({**robert, "phone": "+14155550010"})
    )
    assert with_phone.verdict(auto=AUTO, review=REVIEW) == Verdict.AUTO
    assert any("one typo apart" in r for r in with_phone.reasons)


def test_same_name_at_different_companies_does_not_match():
    a = {
        "email": "j.smith@acme.com",
        "first_name": "John",
        "last_name": "Smith",
        "company_name": "Acme",
    }
    b = {
        "email": "john@globex.com",
        "first_name": "John",
        "last_name": "Smith",
        "company_name": "Globex",
    }
    match = domain.score(Record.of(a), Record.of(b))
    assert match.verdict(auto=AUTO, review=REVIEW) == Verdict.NONE
    assert any(r.startswith("-8 different companies") for r in match.reasons)


def test_a_shared_role_address_is_not_evidence():
    a = {"email": "info@acme.com", "first_name": "John", "last_name": "Doe", "company_name": "Acme"}
    b = {"email": "INFO@acme.com", "first_name": "Jane", "last_name": "Roe", "company_name": "Acme"}
    assert verdict(a, b) == Verdict.NONE
    assert verdict({"email": "info@acme.com"}, {"email": "info@acme.com"}) == Verdict.NONE
    assert domain.block_keys(Record.of({"email": "info@acme.com"})) == ()


def test_transposed_phone_digits_alone_are_not_enough_but_with_the_name_they_are():
    assert domain._phone_near("+14155550100", "+14155550010")
    assert not domain._phone_near("+14155550100", "+14155559999")
    a = {"phone": "+14155550100", "first_name": "Ann", "last_name": "Lee"}
    assert (
        verdict(a, {"phone": "+14155550010", "first_name": "Ann", "last_name": "Lee"})
        == Verdict.AUTO
    )
    assert (
        verdict(a, {"phone": "+14155550010", "first_name": "Tom", "last_name": "Ito"})
        == Verdict.NONE
    )


def test_offline_search_uses_blocks_not_all_pairs():
    people = [
        Record.of({"email": f"p{i}@example.com", "first_name": f"F{i}", "last_name": f"L{i}"})
        for i in range(300)
    ]
    people.append(Record.of({"email": "p7@example.com", "first_name": "F7"}))
    found = domain.find_duplicates(people, review=REVIEW)
    assert [(c.left, c.right) for c in found.pairs] == [(7, 300)]
    assert found.comparisons < 10, "300 people, one shared key: one comparison, not 45,150"


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


@given(first=names, last=names, company=names, email=names)
def test_score_is_symmetric_and_a_record_matches_itself(first, last, company, email):
    a = Record.of(
        {
            "email": f"{email}@x.example",
            "first_name": first,
            "last_name": last,
            "company_name": company,
        }
    )
    b = Record.of({"email": f"{email}z@y.example", "first_name": last, "last_name": first})
    assert domain.score(a, b).score == domain.score(b, a).score
    # A shared mailbox (hr@, sales@) is no evidence: with only the names and the company
    # besides, a record and its copy go to review rather than attach (by design).
    assume(not a.role_email)
    assert domain.score(a, a).verdict(auto=AUTO, review=REVIEW) == Verdict.AUTO
    assert 0.0 <= domain.score(a, b).score <= 1.0


def test_colleagues_on_one_switchboard_number_are_not_proposed_as_duplicates():
    from django.conf import settings

    carlos = {
        "email": "carlos.singh@juniper.example",
        "phone": "+13125550195",
        "first_name": "Carlos",
        "last_name": "Singh",
        "company_name": "Juniper Building Supply Corp.",
        "city": "Chicago",
    }
    michael = {
        **carlos,
        "email": "michael.smith@juniper.example",
        "first_name": "Michael",
        "last_name": "Smith",
    }
    shared = domain.score(Record.of(carlos), Record.of(michael))
    assert shared.score < settings.REFINERY_DEDUPE_REVIEW, shared.reasons
    assert any("shared line" in r for r in shared.reasons)
    # The same number with the same name is still strong evidence.
    same = domain.score(Record.of(carlos), Record.of({**carlos, "email": "cs@juniper.example"}))
    assert same.verdict(auto=AUTO, review=REVIEW) == Verdict.AUTO


small = st.sampled_from(["", "ann", "anne", "bob", "robert", "smith", "smyth", "acme", "acme 2"])
phones = st.sampled_from(
    ["", "+14155550100", "+14155550101", "+14155551000", "+14155550010", "+1415555010"]
)
places = st.sampled_from(["", "10 Main St", "12 Main Street", "1 High Rd", "10 Main St 3"])
codes = st.sampled_from(["", "94110", "94111", "10115"])


def record(values: tuple[str, ...]) -> Record:
    """A record of (first, last, company, mailbox, phone, street, postcode); a street comes
    with its city."""
    first, last, company, mailbox, phone, street, postcode = values
    return Record.of(
        {
            "first_name": first,
            "last_name": last,
            "company_name": company,
            "email": f"{mailbox}@acme.example" if mailbox else "",
            "phone": phone,
            "street": street,
            "postcode": postcode,
            "city": "Springfield" if street else "",
        }
    )


@given(
    st.tuples(small, small, small, small, phones, places, codes),
    st.tuples(small, small, small, small, phones, places, codes),
)
def test_a_score_without_its_reasons_is_the_same_score(left, right):
    """Matching scores every candidate without writing out its reasons, then explains the
    pairs it keeps: the decision must be the one the explained score gives."""

    a, b = record(left), record(right)
    full, quick = domain.score(a, b), domain.score(a, b, explain=False)
    assert (quick.score, quick.weight, quick.auto_ok) == (full.score, full.weight, full.auto_ok)
    assert quick.reasons == ()
    assert full.reasons or full.weight == domain.PRIOR
    # Matching skips the address of a pair that could not reach its lower threshold even
    # with the best address: never a pair that does reach it, and the same score when kept.
    for floor in (0.05, 0.25, REVIEW, AUTO):
        kept = domain.score_at_least(a, b, floor)
        if full.score >= floor:
            assert kept == quick, floor
        else:
            assert kept is None or kept == quick, floor


def test_a_records_block_keys_are_its_own_after_a_change():
    """A record's block keys are worked out once and kept; a record changed with
    ``dataclasses.replace`` has the keys of its new fields, equal records compare equal
    whether or not their keys were asked for, and the kept keys travel in a pickle."""
    import dataclasses
    import pickle

    record = Record.of({"first_name": "Ann", "last_name": "Lee", "postcode": "2000"})
    first = domain.block_keys(record)
    assert domain.block_keys(record) is first
    assert ("name", ("lee", "ann")) in first
    moved = dataclasses.replace(record, postcode_key="3000")
    assert ("surname_postcode", ("lee", "3000")) in domain.block_keys(moved)
    assert ("surname_postcode", ("lee", "2000")) not in domain.block_keys(moved)
    twin = Record.of({"first_name": "Ann", "last_name": "Lee", "postcode": "2000"})
    assert twin == record and hash(twin) == hash(record)
    assert domain.block_keys(pickle.loads(pickle.dumps(record))) == first


weight_values = st.floats(min_value=-12, max_value=12, allow_nan=False, allow_infinity=False)


@given(
    st.tuples(small, small, small, small, phones, places, codes),
    st.tuples(small, small, small, small, phones, places, codes),
    st.dictionaries(st.sampled_from(LEVELS), weight_values, max_size=len(LEVELS)),
)
def test_names_crossed_are_scored_as_when_both_crossed_pairs_are_compared(left, right, changed):
    """A pair's second crossed name pair (the surname against the other's first name) is
    compared only when the first one leaves the crossed reading a chance to win under the
    weights in use. Under any weights, the score, reasons and levels are those of comparing
    both crossed pairs every time."""
    from unittest import mock

    weights = Weights.of({**DEFAULT_VALUES, **changed}, prior=-9.0)
    a, b = record(left), record(right)
    for x, y in ((a, b), (b, a), (a, Record.of({"first_name": left[1], "last_name": left[0]}))):
        quick = domain.score(x, y, weights=weights), domain.compare(x, y, weights=weights)
        with mock.patch.object(domain, "_crossed_best", lambda weights: float("inf")):
            both = domain.score(x, y, weights=weights), domain.compare(x, y, weights=weights)
        assert quick[0] == both[0]
        assert list(quick[1].items()) == list(both[1].items())


streets = st.text(alphabet="abc 12", max_size=14)


@given(streets, streets, st.sampled_from(["Springfield", "Springfeld", "Spring", "Shelby"]))
def test_street_and_city_levels_follow_their_similarity(x, y, city):
    """The street's level is read off its token set ratio (0.9 "same", 0.75 "similar", below
    0.5 "differ", else "partial"), and the ratio shown in the reason is the exact one,
    although ratios below 0.5 are never worked out; the city's off Jaro-Winkler."""
    from rapidfuzz import fuzz
    from rapidfuzz.distance import JaroWinkler

    a = Record.of({"street": x, "city": "Springfield"})
    b = Record.of({"street": y, "city": city})
    levels = domain.compare(a, b)
    if keys.fold(x) and keys.fold(y):
        ratio = fuzz.token_set_ratio(keys.fold(x), keys.fold(y)) / 100
        expected = (
            "same" if ratio >= 0.9 else "similar" if ratio >= 0.75 else
            "differ" if ratio < 0.5 else "partial"
        )  # fmt: skip
        assert levels.get("street") == expected
        if expected in ("same", "similar"):  # "partial" weighs 0: no reason
            shown = f"token ratio {ratio:.2f}"
            assert any(shown in reason for reason in domain.score(a, b).reasons), shown
    similarity = JaroWinkler.similarity("springfield", keys.fold(city))
    assert levels["city"] == (
        "same" if city == "Springfield" else "similar" if similarity >= 0.9 else
        "differ" if similarity < 0.8 else "partial"
    )  # fmt: skip
