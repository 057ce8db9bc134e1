"""An erased person writes again: the inquiry is kept (a new person and lead), flagged on its
timeline, and its address is suppressed, so nurture never enrolls or emails it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from leadrefinery.leads.models import LeadEvent, Person
from leadrefinery.nurture.models import Enrollment, NurtureSend, Suppression
from leadrefinery.nurture.sweep import nurture_sweep
from leadrefinery.privacy.models import ErasedContact

pytestmark = pytest.mark.django_db


def test_a_returning_address_is_stored_flagged_and_never_nurtured(
    make_lead, make_program, smtp_server
):
    make_program(entry_rules=["new_inquiry"])
    first = make_lead(email="Grace.Jones@example.com", first_name="Grace", phone="+442079460958")
    call_command("person", "erase", "grace.jones@example.com", "--reason", "ticket 1", "--yes")
    assert ErasedContact.objects.count() == 2
    # No plain address is left on the suppression list, only the keyed hashes.
    assert not Suppression.objects.filter(address__contains="grace").exists()

    again = make_lead(email="grace.jones@example.com", first_name="Grace", message="Hello again")
    assert again.person_id != first.person_id  # a new inquiry, not re-attached to the erased
    flag = LeadEvent.objects.get(lead=again, data__privacy="suppressed")
    assert "erased on request" in flag.note
    assert Suppression.objects.get(address="grace.jones@example.com").reason == "manual"
    nurture_sweep()
    # Nurture may pick the lead up, but takes it straight out again: nothing is sent.
    assert not Enrollment.objects.filter(lead=again, status="active").exists()
    assert not NurtureSend.objects.filter(lead=again, status="sent").exists()
    assert smtp_server.messages == []


def test_a_returning_phone_is_flagged_too_and_strangers_are_not(make_lead):
    make_lead(email="pat@example.com", phone="+14155552671")
    call_command("person", "erase", "pat@example.com", "--reason", "ticket 2", "--yes")
    by_phone = make_lead(email="p.new@example.com", phone="+1 415 555 2671")
    stranger = make_lead(email="someone@example.com")
    assert LeadEvent.objects.filter(lead=by_phone, data__privacy="suppressed").exists()
    assert not LeadEvent.objects.filter(lead=stranger, data__privacy="suppressed").exists()
    assert not Suppression.objects.filter(address="someone@example.com").exists()


def test_an_erasure_made_under_a_rotated_secret_key_still_matches(make_lead, settings):
    make_lead(email="old@example.com")
    call_command("person", "erase", "old@example.com", "--reason", "ticket 3", "--yes")
    with override_settings(
        SECRET_KEY="a-new-key-" + "x" * 50, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]
    ):
        again = make_lead(email="old@example.com")
    assert LeadEvent.objects.filter(lead=again, data__privacy="suppressed").exists()
    assert Person.objects.filter(email="old@example.com").count() == 1
