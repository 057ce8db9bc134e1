"""Consent and suppression: nothing without a recorded basis where opt-in is required; a merged
person keeps the stricter consent; the suppression list outlives the person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from leadrefinery.leads.actors import Actor
from leadrefinery.leads.models import Person
from leadrefinery.nurture import services
from leadrefinery.nurture.models import Enrollment, NurtureSend
from leadrefinery.nurture.sweep import nurture_sweep

pytestmark = pytest.mark.django_db


def test_without_consent_in_an_opt_in_country_nothing_is_sent(
    smtp_server, make_program, nurture_lead, frozen_now, nurture_settings
):
    make_program(entry_rules=["new_inquiry"])
    nurture_lead(email="fr@example.fr", country="FR", consent=False)
    nurture_lead(email="ca@example.ca", country="CA", consent=False)
    nurture_lead(email="au@example.au", country="AU", consent=True)
    nurture_lead(email="us@example.com", country="US", consent=False)
    for _ in range(40):  # ten days, at hours that fall inside every recipient's window
        nurture_sweep()
        frozen_now.advance(timedelta(hours=6))
    received = {str(m["To"]) for m in smtp_server.messages}
    assert received == {"au@example.au", "us@example.com"}
    skipped = set(
        NurtureSend.objects.filter(status="skipped").values_list("skip_reason", flat=True)
    )
    assert skipped == {"no_consent"}

    # The list of opt-in countries is a setting: with the US on it, the US lead (no consent
    # recorded) gets no further message.
    nurture_settings.REFINERY_OPT_IN_COUNTRIES = [*nurture_settings.REFINERY_OPT_IN_COUNTRIES, "US"]
    before = len(smtp_server.messages)
    for _ in range(20):
        frozen_now.advance(timedelta(days=2))
        nurture_sweep()
    assert {str(m["To"]) for m in smtp_server.messages[before:]} <= {"au@example.au"}


def test_a_merged_person_keeps_the_stricter_consent(
    smtp_server, make_program, nurture_lead, frozen_now
):
    from leadrefinery.dedupe.merging import person_merge

    make_program(entry_rules=["new_inquiry"], name="First")
    work = nurture_lead(first_name="Sam", email="sam@work.example", country="GB", consent=True)
    nurture_sweep()
    [first] = smtp_server.messages
    Client().post(
        first["List-Unsubscribe"].strip("<>").removeprefix("https://refinery.example.com")
    )

    # The same human, known by a second address with an opt-in, in another program.
    frozen_now.advance(timedelta(days=1))
    home = nurture_lead(first_name="Sam", email="sam@home.example", country="GB", consent=True)
    person_merge(survivor=home.person, loser=work.person, actor=Actor.system("test"))
    make_program(entry_rules=["new_inquiry"], name="Second")
    for _ in range(6):
        frozen_now.advance(timedelta(days=7))
        nurture_sweep()
    assert [str(m["To"]) for m in smtp_server.messages] == ["sam@work.example"]
    assert not NurtureSend.objects.filter(status="sent", recipient="sam@home.example").exists()


def test_a_merge_recorded_only_as_a_pointer_still_sees_the_withdrawal(
    smtp_server, make_program, nurture_lead, frozen_now
):
    """Even when the consents stay on the merged-away record, the survivor's sends check
    them and the merged-away addresses against the suppression list."""
    make_program(entry_rules=["new_inquiry"])
    survivor = nurture_lead(email="keep@example.com", country="GB", consent=True)
    loser = nurture_lead(email="gone@example.com", country="GB", consent=True)
    services.suppression_add(address="gone@example.com", reason="complaint", source="test")
    Person.objects.filter(pk=loser.person_id).update(merged_into=survivor.person)
    nurture_sweep()
    assert smtp_server.messages == []
    assert Enrollment.objects.get(lead=survivor).exit_reason == "bounced"


def test_the_suppression_list_outlives_the_person(
    smtp_server, make_program, nurture_lead, frozen_now
):
    """Keyed by address: a person erased (or never known) and then back with the same
    address is still not emailed."""
    make_program(entry_rules=["new_inquiry"])
    services.suppression_add(address="erased@example.com", reason="unsubscribed", source="test")
    lead = nurture_lead(email="Erased@Example.com", country="US")
    nurture_sweep()
    frozen_now.advance(timedelta(hours=6))  # 10:00 in New York
    nurture_sweep()
    assert smtp_server.messages == []
    assert Enrollment.objects.get(lead=lead).status == "exited"
