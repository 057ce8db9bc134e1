"""A possible duplicate pair outlives the erasure of one of its people (the other one's
review history stays), but its reasons no longer quote the erased person."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from leadrefinery.dedupe.models import DuplicatePair
from leadrefinery.leads.models import Person

pytestmark = pytest.mark.django_db

SHARED = {"last_name": "Smithers", "phone": "+442079460958", "product_interest": "Presses"}
BOB = {"email": "bob@acme.example", "first_name": "Bob", "company": "Acme, Inc.", **SHARED}
ALICE = {"email": "alice.s@acme.example", "first_name": "Alice", "company": "ACME Inc", **SHARED}


def test_the_pair_stays_and_its_reasons_forget_the_erased_person(submit_inquiry):
    bob = submit_inquiry(**BOB)
    alice = submit_inquiry(**ALICE)
    pair = DuplicatePair.objects.get(person_a_id=bob.person_id, person_b_id=alice.person_id)
    # The reasons quote Bob's phone and his folded first name ("robert").
    assert "+442079460958" in str(pair.reasons) and "robert" in str(pair.reasons), pair.reasons

    call_command("person", "erase", "bob@acme.example", "--reason", "ticket 9", "--yes")

    pair.refresh_from_db()
    assert pair.status == "open" and pair.score > 0
    reasons = str(pair.reasons)
    assert "robert" not in reasons and "2079460958" not in reasons, reasons
    assert "alice" in reasons  # Alice's own name stays
    alice_now = Person.objects.get(pk=alice.person_id)
    assert (alice_now.email, alice_now.phone) == ("alice.s@acme.example", "+442079460958")
