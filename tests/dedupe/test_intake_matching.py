"""Intake (POST /api/v1/inquiries) matches people by blocking and scoring: realistic variants
attach to the known person, grey-zone look-alikes become a new person plus a pair to review,
and look-alikes that are other people stay apart."""

from __future__ import annotations

import pytest

from leadrefinery.common.clock import now
from leadrefinery.dedupe.models import DuplicatePair
from leadrefinery.leads.models import Account, Lead, LeadEvent, Person, Touch

pytestmark = pytest.mark.django_db


def test_email_in_other_case_attaches_to_the_same_person_and_open_lead(inquire):
    first = inquire(email="JOHN.Smith@Example.com", first_name="John", last_name="Smith")
    again = inquire(email="john.smith@example.com", message="Second try")
    assert again["person_id"] == first["person_id"]
    assert again["outcome"] == "attached_to_open_lead"
    assert Person.objects.count() == 1
    assert Touch.objects.filter(lead_id=first["lead_id"]).count() == 2


def test_gmail_dots_and_tags_are_the_same_mailbox(inquire):
    first = inquire(email="pat.lee@gmail.com", first_name="Pat")
    again = inquire(email="PatLee+webinar@googlemail.com", first_name="Pat")
    assert again["person_id"] == first["person_id"]


def test_us_phone_in_two_formats_is_the_same_person(inquire):
    first = inquire(phone="+1 (415) 555-0100", first_name="Dana", last_name="Ruiz")
    again = inquire(phone="415.555.0100", country="US", first_name="Dana")
    assert again["person_id"] == first["person_id"]
    assert Person.objects.get().phone == "+14155550100"


def test_another_product_line_is_a_new_lead_for_the_same_person(inquire):
    first = inquire(email="kim@acme.example", product_interest="Presses")
    other = inquire(email="KIM@acme.example", product_interest="Lathes")
    assert other["person_id"] == first["person_id"]
    assert other["outcome"] == "new_lead"
    assert other["lead_id"] != first["lead_id"]


def test_bob_and_robert_smith_at_the_same_company_go_to_the_review_queue(inquire):
    bob = inquire(
        email="bob@acme.example", first_name="Bob", last_name="Smith", company="Acme, Inc."
    )
    robert = inquire(
        email="robert.smith@acme.example",
        first_name="Robert",
        last_name="Smith",
        company="ACME Incorporated",
    )
    assert robert["person_id"] != bob["person_id"], "grey zone: a new person, not a merge"
    pair = DuplicatePair.objects.get()
    assert (pair.person_a_id, pair.person_b_id) == (bob["person_id"], robert["person_id"])
    assert pair.status == "open" and pair.found_by == "intake"
    assert 0.6 <= pair.score < 0.95
    assert "+4 first names agree" in pair.reasons
    event = LeadEvent.objects.get(lead_id=robert["lead_id"], kind="duplicate")
    assert f"person {bob['person_id']}" in event.note
    # One company: "Acme, Inc." and "ACME Incorporated" are one Account.
    assert Account.objects.count() == 1
    assert Person.objects.filter(account__name="Acme, Inc.").count() == 2


def test_transposed_phone_digits_with_the_same_name_attach(inquire):
    first = inquire(
        phone="+1 415 555 0123", first_name="Ann", last_name="Lee", company="Lee Consulting LLC"
    )
    again = inquire(
        phone="+1 415 555 0132", first_name="Ann", last_name="Lee", company="Lee Consulting"
    )
    assert again["person_id"] == first["person_id"]


def test_same_name_at_different_companies_stays_apart(inquire):
    a = inquire(email="jsmith@acme.example", first_name="John", last_name="Smith", company="Acme")
    b = inquire(
        email="john.smith@globex.example", first_name="John", last_name="Smith", company="Globex"
    )
    assert a["person_id"] != b["person_id"]
    assert not DuplicatePair.objects.exists()


def test_a_shared_role_address_does_not_merge_two_people(inquire):
    a = inquire(email="info@acme.example", first_name="John", last_name="Doe", company="Acme")
    b = inquire(email="INFO@acme.example", first_name="Jane", last_name="Roe", company="Acme")
    assert a["person_id"] != b["person_id"]
    assert Lead.objects.count() == 2
    assert not DuplicatePair.objects.exists()


def test_the_stored_keys_are_filled_at_intake(inquire):
    body = inquire(
        email="Liz.Taylor+crm@Outlook.com",
        first_name="Liz",
        last_name="Taylor",
        company="Globex GmbH",
        website="www.globex.example",
        postcode="10115",
        street="Invalidenstr. 117",
    )
    person = Person.objects.get(pk=body["person_id"])
    assert (person.email_key, person.first_name_key, person.last_name_key) == (
        "liz.taylor@outlook.com",
        "elizabeth",
        "taylor",
    )
    assert (person.company_key, person.domain_key) == ("globex", "globex.example")
    assert (person.postcode_key, person.street_number_key) == ("10115", "117")
    assert person.account.domain == "globex.example"


def test_lead_to_account_by_domain_first_then_fuzzy_name_and_the_owner_routes(
    inquire, users, api_as, frozen_now
):
    rule = api_as(users.admin, ["routing:admin"]).post(
        "/routing-rules",
        {
            "name": "East, account owner first",
            "order": 1,
            "target_kind": "team",
            "target_id": users.rep.team_id,
            "account_owner_first": True,
        },
    )
    assert rule.status_code == 201, rule.content
    owned = Account.objects.create(
        name="Initech Systems",
        name_key="initech systems",
        domain="initech.example",
        owner=users.rep,
        created_at=now(),
    )
    by_domain = inquire(email="peter@initech.example", first_name="Peter")
    assert Person.objects.get(pk=by_domain["person_id"]).account_id == owned.pk
    by_fuzzy_name = inquire(email="milton@gmail.com", first_name="Milton", company="Initech System")
    assert Person.objects.get(pk=by_fuzzy_name["person_id"]).account_id == owned.pk
    lead = Lead.objects.get(pk=by_fuzzy_name["lead_id"])
    assert lead.account_id == owned.pk
    assert lead.owner_user == users.rep, "the account owner reaches routing"


def _bob_and_robert(inquire, owner):
    from leadrefinery.leads.actors import Actor
    from leadrefinery.leads.services import lead_assign

    bob = inquire(
        email="bob@acme.example", first_name="Bob", last_name="Smith", company="Acme, Inc."
    )
    lead_assign(lead=Lead.objects.get(pk=bob["lead_id"]), owner_user=owner, actor=Actor.system("t"))
    return inquire(
        email="robert.smith@acme.example",
        first_name="Robert",
        last_name="Smith",
        company="ACME Incorporated",
    )


def test_a_possible_duplicate_waits_for_review_with_the_rep_who_has_the_person(inquire, users):
    robert = _bob_and_robert(inquire, users.other_rep)
    assert DuplicatePair.objects.filter(status="open").count() == 1
    lead = Lead.objects.get(pk=robert["lead_id"])
    assert lead.owner_user == users.other_rep, "not a second clock with another rep"
    assigned = LeadEvent.objects.get(lead=lead, kind="assigned")
    assert "possible duplicate of Bob Smith" in str(assigned.data)


def test_when_that_rep_cannot_take_it_the_rules_decide(inquire, users):
    from datetime import timedelta

    users.other_rep.away_until = now() + timedelta(days=3)  # on holiday
    users.other_rep.save()
    robert = _bob_and_robert(inquire, users.other_rep)
    assert Lead.objects.get(pk=robert["lead_id"]).owner_user is None


def test_a_person_is_found_by_the_keys_of_every_record_attached_to_it(inquire):
    from leadrefinery.dedupe.models import PersonVariant

    first = inquire(email="jon@smyth.example", first_name="Jon", last_name="Smyth",
                    company="Nordwind")  # fmt: skip
    # The same mailbox, written another way: attached, and kept as a variant.
    again = inquire(email="jon@smyth.example", first_name="John", last_name="Smith",
                    company="Smith Logistics")  # fmt: skip
    assert again["person_id"] == first["person_id"]
    variant = PersonVariant.objects.get()
    assert (variant.person_id, variant.last_name_key) == (first["person_id"], "smith")
    # A third record shares no block key with the person's own fields, only with the variant.
    third = inquire(email="john.smith@smithlogistics.example", first_name="John",
                    last_name="Smith", company="Smith Logistics")  # fmt: skip
    found = (
        third["person_id"] == first["person_id"]
        or DuplicatePair.objects.filter(
            person_a_id=first["person_id"], person_b_id=third["person_id"]
        ).exists()
    )
    assert found, "found through the variant"
    # The same variant again is kept once.
    inquire(email="jon@smyth.example", first_name="John", last_name="Smith",
            company="Smith Logistics")  # fmt: skip
    assert PersonVariant.objects.count() == 1
